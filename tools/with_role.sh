#!/usr/bin/env bash
# usage: tools/with_role.sh ROLE_ARN COMMAND [ARGS...]
# Runs COMMAND with temporary credentials of ROLE_ARN (sts:AssumeRole through the AWS CLI, one hour at most).
# The deploy pipeline's preflight and verify steps use it to act in a stage's account (README "Deploy pipeline").
set -euo pipefail
role=${1:?usage: tools/with_role.sh ROLE_ARN COMMAND [ARGS...]}
shift
[ $# -gt 0 ] || { echo "with_role: no command given" >&2; exit 2; }
read -r key secret token < <(aws sts assume-role --role-arn "$role" --role-session-name "gptoss-${CODEBUILD_BUILD_NUMBER:-local}" \
  --duration-seconds 3600 --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
[ -n "${token:-}" ] || { echo "with_role: could not assume $role" >&2; exit 1; }
AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret AWS_SESSION_TOKEN=$token exec "$@"
