"""Loaded by moto_server through PYTHONPATH when start:synth runs it (see local/synth/moto.ts).

Two changes, both so that moto's Secrets Manager behaves as AWS's does during a rotation:

1. UpdateSecretVersionStage moving AWSCURRENT also moves the version that GetSecretValue without
   a stage and BatchGetSecretValue return. moto 5.2 leaves that on the old version, so after a
   rotation every reader would keep the old value as current.
2. RotateSecret invokes a rotation function that moto's own Lambda does not know (it cannot run
   Lambda code without Docker) through MOTO_LAMBDA_INVOKE_URL: start:synth's loopback Lambda
   Invoke endpoint, which runs the synthesized bundle. A failed step fails RotateSecret.
"""
import json
import os
import urllib.parse
import urllib.request

try:
    from moto.secretsmanager.models import SecretsManagerBackend
    import moto.awslambda.utils as lambda_utils
except Exception:  # not moto's interpreter: nothing to patch
    SecretsManagerBackend = None

if SecretsManagerBackend is not None:
    _update_stage = SecretsManagerBackend.update_secret_version_stage

    def update_secret_version_stage(self, secret_id, version_stage, remove_from_version_id, move_to_version_id):
        result = _update_stage(self, secret_id, version_stage, remove_from_version_id, move_to_version_id)
        if version_stage == "AWSCURRENT" and move_to_version_id:
            self.secrets[secret_id].default_version_id = move_to_version_id
        return result

    SecretsManagerBackend.update_secret_version_stage = update_secret_version_stage

    _invoke_url = os.environ.get("MOTO_LAMBDA_INVOKE_URL")
    _get_backend = lambda_utils.get_backend

    class _ForwardingLambda:
        """The two calls RotateSecret makes, answered by start:synth."""

        def get_function(self, arn):
            return arn

        def invoke(self, function_name, qualifier, body, headers, response_headers):
            name = urllib.parse.quote(function_name, safe="")
            request = urllib.request.Request(
                f"{_invoke_url}/2015-03-31/functions/{name}/invocations",
                data=body.encode("utf-8"),
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=60) as response:
                payload = response.read()
                if response.headers.get("X-Amz-Function-Error"):
                    raise RuntimeError(f"rotation step failed: {json.loads(body).get('Step')}")
                return payload

    def get_backend(account_id, region):
        return _ForwardingLambda() if _invoke_url else _get_backend(account_id, region)

    lambda_utils.get_backend = get_backend
