"""What template.yaml deploys for releases, logs, the secret's name and the
custom domain, read from the transformed template (see test_template.py).

Run (make test does): .venv/bin/python -m unittest discover -s dev/template -v
"""

import unittest

from test_template import ACCOUNT, REGION, STACK, stack

CERT = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/0f6e3c5a-1111-2222-3333-444455556666"
DOMAIN = dict(DomainName="token.example.com", CertificateArn=CERT)
CODEDEPLOY_TYPES = {"AWS::CodeDeploy::Application", "AWS::CodeDeploy::DeploymentGroup"}


def types(s):
    return {r["Type"] for r in s.resources.values()}


class Secret(unittest.TestCase):
    def test_named_after_the_stack(self):
        name = stack().props("TokenSecret")["Name"]
        self.assertEqual(name, f"{STACK}-api-key")
        # Secrets Manager appends -XXXXXX to the ARN: a name that ends like
        # that itself would make ARN patterns ambiguous.
        self.assertNotRegex(name, r"-[A-Za-z0-9]{6}$")


class Logging(unittest.TestCase):
    def test_application_log_level_follows_log_level(self):
        for level, lambda_level in [("debug", "DEBUG"), ("info", "INFO"), ("warn", "WARN"), ("error", "ERROR")]:
            with self.subTest(level=level):
                cfg = stack(LogLevel=level).function()["LoggingConfig"]
                self.assertEqual(cfg["LogFormat"], "JSON")
                self.assertEqual(cfg["ApplicationLogLevel"], lambda_level)
                self.assertEqual(stack(LogLevel=level).function()["Environment"]["Variables"]["LOG_LEVEL"], level)


class Alias(unittest.TestCase):
    def test_every_release_is_a_version_behind_the_alias_live(self):
        s = stack()
        (alias,) = s.of_type("AWS::Lambda::Alias").values()
        self.assertEqual(alias["Properties"]["Name"], "live")
        (version_id,) = s.of_type("AWS::Lambda::Version")
        self.assertEqual(alias["Properties"]["FunctionVersion"], {"Fn::GetAtt": [version_id, "Version"]})
        # The API may invoke the alias only.
        (perm,) = s.of_type("AWS::Lambda::Permission").values()
        self.assertEqual(perm["Properties"]["FunctionName"], {"Ref": "TokenFunctionAliaslive"})

    def test_all_at_once_creates_no_codedeploy_resources(self):
        s = stack()
        self.assertFalse(types(s) & CODEDEPLOY_TYPES)
        self.assertNotIn("CodeDeployServiceRole", s.resources)
        self.assertNotIn("NewVersionErrorsAlarm", s.resources)
        self.assertNotIn("NewVersionServerErrorsAlarm", s.resources)
        (alias,) = s.of_type("AWS::Lambda::Alias").values()
        self.assertNotIn("UpdatePolicy", alias)

    def test_gradual_strategies_shift_traffic_and_roll_back_on_alarms(self):
        for strategy in ["Canary10Percent5Minutes", "Linear10PercentEvery1Minute"]:
            with self.subTest(strategy=strategy):
                s = stack(DeploymentStrategy=strategy)
                self.assertLessEqual(CODEDEPLOY_TYPES, types(s))
                (group,) = s.of_type("AWS::CodeDeploy::DeploymentGroup").values()
                props = group["Properties"]
                self.assertEqual(props["DeploymentConfigName"], f"CodeDeployDefault.Lambda{strategy}")
                self.assertTrue(props["AutoRollbackConfiguration"]["Enabled"])
                self.assertIn("DEPLOYMENT_STOP_ON_ALARM", props["AutoRollbackConfiguration"]["Events"])
                alarms = [a["Name"] for a in props["AlarmConfiguration"]["Alarms"]]
                self.assertEqual(alarms, [{"Ref": "NewVersionErrorsAlarm"}, {"Ref": "NewVersionServerErrorsAlarm"}])
                # Both alarms exist even without a recipient for notifications.
                self.assertIn("NewVersionErrorsAlarm", s.resources)
                self.assertIn("NewVersionServerErrorsAlarm", s.resources)
                (alias,) = s.of_type("AWS::Lambda::Alias").values()
                self.assertIn("CodeDeployLambdaAliasUpdate", alias["UpdatePolicy"])

    def test_new_version_alarm_watches_only_the_released_version(self):
        s = stack(DeploymentStrategy="Canary10Percent5Minutes")
        props = s.props("NewVersionErrorsAlarm")
        dims = {d["Name"]: d["Value"] for d in props["Dimensions"]}
        (version_id,) = s.of_type("AWS::Lambda::Version")
        self.assertEqual(dims["ExecutedVersion"], {"Fn::GetAtt": [version_id, "Version"]})
        self.assertEqual(dims["Resource"], "${TokenFunction}:live")
        self.assertEqual((props["Namespace"], props["MetricName"], props["Period"]), ("AWS/Lambda", "Errors", 60))
        # The function's own 5xx answers, counted per version (metrics.ServerErrors).
        props = stack(DeploymentStrategy="Canary10Percent5Minutes", MetricsNamespace="Shop/Avatar").props("NewVersionServerErrorsAlarm")
        self.assertEqual((props["Namespace"], props["MetricName"], props["Period"]), ("Shop/Avatar", "ServerErrors", 60))
        self.assertEqual(
            props["Dimensions"],
            [
                {"Name": "FunctionName", "Value": {"Ref": "TokenFunction"}},
                {"Name": "FunctionVersion", "Value": {"Fn::GetAtt": [version_id, "Version"]}},
            ],
        )

    def test_provisioned_concurrency_only_when_given(self):
        (alias,) = stack().of_type("AWS::Lambda::Alias").values()
        self.assertNotIn("ProvisionedConcurrencyConfig", alias["Properties"])
        (alias,) = stack(ProvisionedConcurrency="3").of_type("AWS::Lambda::Alias").values()
        self.assertEqual(alias["Properties"]["ProvisionedConcurrencyConfig"], {"ProvisionedConcurrentExecutions": "3"})


class CustomDomain(unittest.TestCase):
    def test_none_by_default(self):
        s = stack()
        self.assertFalse({t for t in types(s) if "DomainName" in t or "ApiMapping" in t or "Route53" in t})
        self.assertTrue(s.outputs["TokenEndpoint"].endswith(f".execute-api.{REGION}.amazonaws.com/token"))
        self.assertNotIn("RegionalDomainName", s.outputs)
        self.assertIs(s.api_body()["servers"][0]["x-amazon-apigateway-endpoint-configuration"]["disableExecuteApiEndpoint"], False)

    def test_domain_maps_the_default_stage(self):
        s = stack(**DOMAIN)
        (domain,) = s.of_type("AWS::ApiGatewayV2::DomainName").values()
        cfg = domain["Properties"]["DomainNameConfigurations"]
        self.assertEqual(cfg, [{"CertificateArn": CERT, "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"}])
        (mapping,) = s.of_type("AWS::ApiGatewayV2::ApiMapping").values()
        self.assertEqual(mapping["Properties"]["ApiId"], {"Ref": "TokenApi"})
        (stage_id,) = s.of_type("AWS::ApiGatewayV2::Stage")
        self.assertEqual(mapping["Properties"]["Stage"], {"Ref": stage_id})
        self.assertEqual(s.outputs["TokenEndpoint"], "https://token.example.com/token")
        self.assertIn("RegionalDomainName", s.outputs)
        self.assertFalse(s.of_type("AWS::Route53::RecordSet"))

    def test_hosted_zone_adds_the_alias_record(self):
        s = stack(HostedZoneId="Z0123456789ABCDEFGHIJ", **DOMAIN)
        (record,) = s.of_type("AWS::Route53::RecordSet").values()
        props = record["Properties"]
        self.assertEqual((props["Name"], props["Type"], props["HostedZoneId"]), ("token.example.com", "A", "Z0123456789ABCDEFGHIJ"))
        self.assertEqual(props["AliasTarget"]["DNSName"], {"Fn::GetAtt": ["TokenDomainName", "RegionalDomainName"]})

    def test_execute_api_endpoint_can_be_turned_off(self):
        s = stack(DisableExecuteApiEndpoint="true", **DOMAIN)
        self.assertIs(s.api_body()["servers"][0]["x-amazon-apigateway-endpoint-configuration"]["disableExecuteApiEndpoint"], True)

    def test_incomplete_settings_are_refused(self):
        def refused(**params):
            s = stack(**params)
            rules = s.cfn["Rules"]["DomainNeedsCertificate"]["Assertions"]
            return [r["AssertDescription"] for r in rules if not s._truth(r["Assert"])]

        self.assertEqual(refused(), [])
        self.assertEqual(refused(HostedZoneId="Z1", DisableExecuteApiEndpoint="true", **DOMAIN), [])
        self.assertEqual(len(refused(DomainName="token.example.com")), 1)
        self.assertEqual(len(refused(CertificateArn=CERT)), 1)
        self.assertEqual(len(refused(HostedZoneId="Z1")), 1)
        self.assertEqual(len(refused(DisableExecuteApiEndpoint="true")), 1)


if __name__ == "__main__":
    unittest.main()


class LintEveryCombination(unittest.TestCase):
    """cfn-lint transforms a SAM template with the parameters' defaults. The
    transform itself reads only DeploymentStrategy (DeploymentPreference's
    Enabled and Type); every other feature is a CloudFormation condition that
    cfn-lint checks on all its branches. So the template is linted once per
    strategy, each copy with every optional feature on by default too."""

    def test_cfn_lint_is_clean_for_each_strategy(self):
        import os
        import re
        import subprocess
        import sys
        import tempfile

        try:
            import cfnlint  # noqa: F401
        except ImportError:
            if os.environ.get("REQUIRE_INTEGRATION") == "1":
                raise
            self.skipTest("cfn-lint not installed (make tools)")
        from test_template import ROOT, TEMPLATE

        with open(TEMPLATE, encoding="utf-8") as f:
            text = f.read()
        features = {
            "ProvisionedConcurrency": "2",
            "DomainName": "token.example.com",
            "CertificateArn": CERT,
            "HostedZoneId": "Z0123456789ABCDEFGHIJ",
            "DisableExecuteApiEndpoint": "true",
            "ClientTokenLimit": "5/10m",
            "AlarmEmail": "ops@example.com",
            "ReservedConcurrency": "5",
            "SessionLedger": "on",
            "MaxLiveSessions": "20",
            "DailySessionMinutes": "600",
            "DailySessionMinutesAlarm": "900",
        }
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for strategy in ["AllAtOnce", "Canary10Percent5Minutes", "Linear10PercentEvery1Minute"]:
                variant = text
                for name, value in dict(features, DeploymentStrategy=strategy).items():
                    # The parameter's Default line (each parameter has one, or gets one).
                    block = re.search(rf"(?m)^  {name}:\n(?:    .*\n)*", variant)
                    self.assertIsNotNone(block, name)
                    body = block.group(0)
                    if re.search(r"(?m)^    Default:", body):
                        new = re.sub(r'(?m)^    Default: .*$', f'    Default: "{value}"', body, count=1)
                    else:
                        new = body.replace("    Type: String\n", f'    Type: String\n    Default: "{value}"\n', 1)
                    self.assertNotEqual(new, body, name)
                    variant = variant.replace(body, new, 1)
                path = os.path.join(tmp, f"template-{strategy}.yaml")
                with open(path, "w", encoding="utf-8") as f:
                    f.write(variant)
                paths.append(path)
            lint = "import sys; from cfnlint.runner import main; sys.exit(main())"
            run = subprocess.run([sys.executable, "-c", lint, *paths], cwd=ROOT, capture_output=True, text=True)
            self.assertEqual(run.returncode, 0, run.stdout + run.stderr)


class ReleaseDigest(unittest.TestCase):
    """SAM names a version from the code and the template, not from the
    parameters' values: a change of parameters alone would leave the alias
    on the old version. A new ReleaseDigest changes the versions'
    description, which CloudFormation cannot change in place: it replaces
    them, which publishes new versions the alias then points at."""

    def test_digest_is_the_versions_description(self):
        for digest in ["", "0123456789abcdef"]:
            s = stack(ReleaseDigest=digest, SessionLedger="on")
            versions = s.of_type("AWS::Lambda::Version")
            self.assertEqual(len(versions), 2)
            for name, v in versions.items():
                self.assertEqual(v["Properties"]["Description"], f"release {digest}", name)

    def test_code_still_names_the_version(self):
        # The digest does not replace SAM's hash of the code: a new build
        # without a new digest still publishes.
        a = set(stack(ReleaseDigest="aaaa").of_type("AWS::Lambda::Version"))
        b = set(stack(ReleaseDigest="bbbb").of_type("AWS::Lambda::Version"))
        self.assertEqual(a, b)
        self.assertTrue(all(n.startswith("TokenFunctionVersion") and len(n) == len("TokenFunctionVersion") + 10 for n in a))
