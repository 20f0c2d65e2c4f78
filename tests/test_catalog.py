"""The reviewed catalog: internally consistent, every value sourced; and its refresh from JumpStart specs."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from gptoss_constructs import catalog
from tools import refresh_catalog

FIXTURES = Path(__file__).parent / "fixtures" / "jumpstart"
RAW = json.loads(refresh_catalog.CATALOG.read_text())


@pytest.mark.parametrize("model", ["gpt-oss-20b", "gpt-oss-120b"])
def test_every_model_is_consistent_and_sourced(model):
    spec = catalog.hosting(model)
    assert spec.default_instance_type in spec.supported_instance_types
    for t in spec.supported_instance_types:
        info = catalog.instance_info(t)
        assert info is not None, t
        assert info.gpu_memory_gib >= RAW["models"][model]["min_gpu_memory_gib"], t
    for region in catalog.models()[model].jumpstart_regions:
        assert spec.image_uri(region).startswith(f"763104351884.dkr.ecr.{region}.amazonaws.com/")
        assert spec.model_data_s3_uri(region).startswith(f"s3://jumpstart-cache-prod-{region}/") and spec.model_data_s3_uri(region).endswith("/")
    sources = RAW["models"][model]["sources"]
    assert {"jumpstart_regions", "bedrock_regions", "artifact_key", "instance_types", "environment"} <= set(sources)
    assert all(isinstance(v, str) and len(v) > 20 for v in sources.values())


def test_unconfirmed_values_say_so():
    assert RAW["containers"]["lmi"]["confirmed"] is False and "refresh_catalog" in RAW["containers"]["lmi"]["note"]
    assert RAW["models"]["gpt-oss-20b"]["sources"]["artifact_key"].startswith("unconfirmed")


def _fetch(key: str):
    return json.loads((FIXTURES / key).read_text())


def test_refresh_takes_the_newest_spec_and_marks_values_confirmed():
    updated, changes = refresh_catalog.refresh(copy.deepcopy(RAW), _fetch, "us-east-1")
    m20 = updated["models"]["gpt-oss-20b"]
    assert m20["artifact_key"].endswith("/v1.1.0/")  # 1.1.0 beats 1.0.0 in the manifest
    assert m20["default_instance_type"] == "ml.g6e.2xlarge"
    assert m20["environment"] == {"OPTION_MAX_MODEL_LEN": "131072"}  # script-scoped variables are not container env
    assert m20["sources"]["artifact_key"] == "JumpStart spec s3://jumpstart-cache-prod-us-east-1/community_models/specs/openai-reasoning-gpt-oss-20b/specs_v1.1.0.json (confirmed)"
    container = updated["containers"]["lmi"]
    assert (container["repository"], container["tag"], container["confirmed"]) == ("djl-inference", "0.33.0-lmi15.0.0-cu128", True)
    assert any(c.startswith("gpt-oss-20b.image:") for c in changes)
    again, more = refresh_catalog.refresh(copy.deepcopy(updated), _fetch, "us-east-1")
    assert more == [] and again == updated


def test_check_mode_exits_1_on_drift_and_writes_nothing(capsys):
    before = refresh_catalog.CATALOG.read_text()
    assert refresh_catalog.main(["--specs", str(FIXTURES), "--check"]) == 1
    assert refresh_catalog.CATALOG.read_text() == before
    assert "gpt-oss-20b.default_instance_type: 'ml.g6e.xlarge' -> 'ml.g6e.2xlarge'" in capsys.readouterr().out


def test_fails_when_the_manifest_lacks_the_model():
    with pytest.raises(ValueError, match="openai-reasoning-gpt-oss-20b is not in the JumpStart manifest"):
        refresh_catalog.latest_spec_key([{"model_id": "other", "version": "1.0.0", "spec_key": "x"}], "openai-reasoning-gpt-oss-20b")
