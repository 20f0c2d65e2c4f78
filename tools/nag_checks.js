#!/usr/bin/env node
/*
 * Re-runs the cdk-nag packs over the templates of a cloud assembly and prints, as JSON on stdout, the result
 * of EVERY rule on every resource (compliant, non-compliant, not applicable, threw).
 *
 * Why: cdk-nag 3 reports only violations (cdk.out/validation-report.json); its v2 per-pack CSV reports
 * (NagReportLogger) are gone. A reviewer also needs to see what was checked and passed. This script loads the
 * very same cdk-nag / aws-cdk-lib JavaScript that the Python bindings run (extracted from their jsii bundles by
 * tools/nag_report.py), rebuilds each stack from its template with CfnInclude, and calls each pack's
 * checkResource with applyRule wrapped to record the rule's own result. Acknowledgments are NOT applied here:
 * tools/nag_report.py matches them from <stack>.metadata.json and cross-checks the open findings against
 * validation-report.json, which stays the authority for what failed.
 *
 * Each pack's summary also carries every rule's own ``info`` text, which for the compliance packs ends in
 * "(Control IDs: ...)": the report maps acknowledgments to HIPAA / NIST 800-53 / PCI DSS controls from it.
 *
 * usage: node nag_checks.js <cdk.out> <PackClass>... (NODE_PATH must point at the extracted node_modules)
 */
'use strict';
const fs = require('fs');
const path = require('path');
const cdk = require('aws-cdk-lib');
const { CfnInclude } = require('aws-cdk-lib/cloudformation-include');
const nag = require('cdk-nag');

const [outdir, ...packClasses] = process.argv.slice(2);
const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));

const { Construct } = require('constructs');

/** construct path (no leading slash) -> fqn, from tree.json: which L1 class each resource really was */
function treeClasses(outdir) {
  const classes = {};
  const file = path.join(outdir, manifest.artifacts.Tree ? manifest.artifacts.Tree.properties.file : 'tree.json');
  if (!fs.existsSync(file)) return classes;
  const walk = (node) => {
    if (node.path) classes[node.path] = (node.constructInfo || {}).fqn;
    for (const child of Object.values(node.children || {})) walk(child);
  };
  walk(JSON.parse(fs.readFileSync(file, 'utf8')).tree);
  return classes;
}

/** logical id -> construct path (no leading slash), from the stack's metadata */
function logicalIdPaths(artifact) {
  let metadata = artifact.metadata || {};
  if (artifact.additionalMetadataFile) {
    metadata = { ...metadata, ...JSON.parse(fs.readFileSync(path.join(outdir, artifact.additionalMetadataFile), 'utf8')) };
  }
  const paths = {};
  for (const [p, entries] of Object.entries(metadata)) {
    for (const e of entries) if (e.type === 'aws:cdk:logicalId') paths[e.data] = p.replace(/^\//, '');
  }
  return paths;
}

/**
 * Moves an included L1 to its real place in the construct tree (placeholder Constructs for the scopes above
 * it), so rules that look at a resource's parent or siblings see the same shape as at synth.
 */
function reparent(stack, l1, realPath) {
  const parts = realPath.split('/').slice(1); // drop the stack id
  let scope = stack;
  for (const id of parts.slice(0, -1)) scope = scope.node.tryFindChild(id) || new Construct(scope, id);
  const id = parts[parts.length - 1];
  if (scope.node.tryFindChild(id)) return; // keep the flat place rather than clash
  delete l1.node.scope.node._children[l1.node.id];
  l1.node.scope = scope;
  l1.node.id = id;
  l1.node.path = realPath;
  scope.node.addChild(l1, id);
}

function replaceStackOutputs(node) {
  if (Array.isArray(node)) return node.map(replaceStackOutputs);
  if (node && typeof node === 'object') {
    if (Object.keys(node).length === 1 && 'Fn::GetStackOutput' in node) return 'cross-stack-output';
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, replaceStackOutputs(v)]));
  }
  return node;
}

const app = new cdk.App();
const classes = treeClasses(outdir);
const stacks = [];
for (const [name, artifact] of Object.entries(manifest.artifacts)) {
  if (artifact.type !== 'aws:cloudformation:stack') continue;
  const region = (artifact.environment || '').split('/').pop();
  const stack = new cdk.Stack(app, name, { env: region && region !== 'unknown-region' ? { region } : undefined });
  const paths = logicalIdPaths(artifact);
  const templateFile = path.join(outdir, artifact.properties.templateFile);
  // CfnInclude cannot parse the cross-stack intrinsic Fn::GetStackOutput; no nag rule reads its value, so a
  // placeholder string stands in for it (in a copy of the template)
  const template = replaceStackOutputs(JSON.parse(fs.readFileSync(templateFile, 'utf8')));
  const includeFile = path.join(fs.mkdtempSync(path.join(require('os').tmpdir(), 'nag-')), 'template.json');
  fs.writeFileSync(includeFile, JSON.stringify(template));
  // resources that were plain CfnResource at synth (e.g. CDK's own custom resource providers) stay plain,
  // so instanceof-based rules treat them exactly as the real run did
  const generic = Object.keys(template.Resources || {}).filter((id) => classes[paths[id]] === 'aws-cdk-lib.CfnResource');
  const include = new CfnInclude(stack, 'T', { templateFile: includeFile, dehydratedResources: generic });
  for (const id of Object.keys(template.Resources || {})) {
    if (paths[id]) reparent(stack, include.getResource(id), paths[id]);
  }
  stacks.push({ name, region, stack, paths });
}

const records = [];
const packs = [];
for (const cls of packClasses) {
  const pack = new nag[cls]();
  const ruleNames = new Set();
  const ruleInfo = {};
  let current = null;
  pack.applyRule = function applyRule(params) {
    const rule = `${this.readPackName}-${params.ruleSuffixOverride ? params.ruleSuffixOverride : params.rule.name}`;
    ruleNames.add(rule);
    ruleInfo[rule] = params.info;
    let result;
    let findings = [];
    let error;
    try {
      const r = params.rule(params.node);
      if (Array.isArray(r)) {
        findings = r;
        result = r.length ? 'non_compliant' : 'compliant';
      } else {
        result = { Compliant: 'compliant', 'Non-Compliant': 'non_compliant', 'N/A': 'not_applicable' }[r] || String(r);
      }
    } catch (e) {
      result = 'error';
      error = String(e && e.message ? e.message : e);
    }
    if (result === 'not_applicable') {
      current.notApplicable += 1;
      return;
    }
    records.push({
      stack: current.name,
      pack: this.readPackName,
      rule,
      level: params.level,
      path: `/${params.node.node.path}`,
      logicalId: cdk.Stack.of(params.node).resolve(params.node.logicalId),
      resourceType: params.node.cfnResourceType,
      result,
      findings,
      error,
    });
  };
  const summary = { pack: pack.readPackName, cls, rules: [], ruleInfo, notApplicable: {} };
  for (const s of stacks) {
    current = { name: s.name, notApplicable: 0 };
    for (const node of s.stack.node.findAll()) {
      // AWS::CDK::Metadata is the CLI's version reporting (present with `cdk synth`, absent when app.py runs on
      // its own); no rule applies to it, and counting it would make the totals depend on how the app was run
      if (cdk.CfnResource.isCfnResource(node) && node.cfnResourceType !== 'AWS::CDK::Metadata') pack.checkResource(node);
    }
    summary.notApplicable[s.name] = current.notApplicable;
  }
  summary.rules = [...ruleNames].sort();
  packs.push(summary);
}

process.stdout.write(JSON.stringify({ stacks: stacks.map((s) => ({ name: s.name, region: s.region })), packs, records }));
