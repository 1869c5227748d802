"""What template.yaml deploys for the session ledger (SessionLedger=on): the
table, the webhook receiver and its secret, their grants, the caps' grants
on the token function, the alarms and the dashboard's widgets, each exactly
when asked for; read from the transformed template (see test_template.py).

Run (make test does): .venv/bin/python -m unittest discover -s dev/template -v
"""

import fnmatch
import json
import re
import unittest

from test_ci import ROLE_TEMPLATE, load_yaml
from test_deploy_role import Role
from test_template import (
    ACCOUNT,
    ENV_VARS,
    JWT,
    KMS_ARN,
    LIMITS_VARS,
    REGION,
    SECRET_ARN,
    SECRET_CASES,
    SESSION_VARS,
    STACK,
    TOPIC_ARN,
    alarms,
    as_list,
    load_sam,
    rules_broken,
    stack,
)

LEDGER = dict(SessionLedger="on")
CAPS = dict(MaxLiveSessions="20", DailySessionMinutes="600")
CERT = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/0f6e3c5a-1111-2222-3333-444455556666"

LEDGER_RESOURCES = {"SessionsTable", "WebhookSecret", "WebhookFunction", "WebhookFunctionRole", "WebhookFunctionLogGroup"}
WEBHOOK_VARS = {
    "SESSIONS_TABLE",
    "WEBHOOK_SECRET_ID",
    "WEBHOOK_HEADER_NAME",
    "TRULIENCE_CUSTOMER_ID",
    "SESSION_MAX_MINUTES",
    "LOG_LEVEL",
    "METRICS_NAMESPACE",
}
# What the ledger's writes and reads need: a session's state, the live
# markers, and the items of its transactions (TransactWriteItems has no
# action of its own).
LEDGER_ACTIONS = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"]


def statements(s, role):
    return [st for p in s.props(role).get("Policies", []) for st in p["PolicyDocument"]["Statement"]]


def actions(sts):
    return sorted(a for st in sts for a in as_list(st["Action"]))


class Ledger(unittest.TestCase):
    """The table, the receiver and its secret exist only with SessionLedger=on."""

    def test_nothing_without_the_ledger(self):
        for params in [{}, dict(ClientTokenLimit="5/10m"), dict(AlarmEmail="ops@example.com")]:
            with self.subTest(params):
                s = stack(**params)
                self.assertFalse(LEDGER_RESOURCES & set(s.resources))
                self.assertFalse([n for n in s.resources if n.startswith("Webhook")])
                self.assertEqual(list(s.api_body()["paths"]), ["/token"])
                self.assertNotIn("WebhookUrl", s.outputs)
                self.assertFalse(set(s.function()["Environment"]["Variables"]) & SESSION_VARS)
                self.assertNotIn("dynamodb:Query", actions(s.role_statements()))
                self.assertEqual(len(s.of_type("AWS::Lambda::Function")), 1)

    def test_table(self):
        s = stack(**LEDGER)
        table = s.resources["SessionsTable"]
        self.assertEqual(table["DeletionPolicy"], "Delete")
        self.assertEqual(table["UpdateReplacePolicy"], "Delete")
        p = table["Properties"]
        self.assertEqual(p["TableName"], f"{STACK}-sessions")
        self.assertEqual(p["BillingMode"], "PAY_PER_REQUEST")
        self.assertEqual(p["KeySchema"], [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
        self.assertEqual(
            p["AttributeDefinitions"],
            [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
        )
        self.assertEqual(p["TimeToLiveSpecification"], {"AttributeName": "expires_at", "Enabled": True})
        self.assertNotIn("StreamSpecification", p)
        self.assertNotIn("GlobalSecondaryIndexes", p)
        # The limits table is another matter: only with a limit.
        self.assertEqual(set(s.of_type("AWS::DynamoDB::Table")), {"SessionsTable"})
        both = stack(ClientTokenLimit="5/10m", **LEDGER)
        self.assertEqual(set(both.of_type("AWS::DynamoDB::Table")), {"SessionsTable", "LimitsTable"})

    def test_secret_is_generated_and_named_after_the_stack(self):
        for name, params in SECRET_CASES.items():
            with self.subTest(name):
                s = stack(**params, **LEDGER)
                secret = s.resources["WebhookSecret"]
                self.assertEqual(secret["DeletionPolicy"], "Delete")
                p = secret["Properties"]
                # Not ending in a hyphen and six characters, like the suffix
                # Secrets Manager appends, so no partial ARN of it is ambiguous.
                self.assertEqual(p["Name"], f"{STACK}-webhook-key")
                self.assertNotRegex(p["Name"], r"-[A-Za-z0-9]{6}$")
                env = s.props("WebhookFunction")["Environment"]["Variables"]
                self.assertEqual(env["WEBHOOK_SECRET_ID"], {"Ref": "WebhookSecret"})
                self.assertEqual(p["GenerateSecretString"], {"PasswordLength": 40, "ExcludePunctuation": True})
                self.assertNotIn("SecretString", p)
                # Not the API key's KMS key: the webhook's role may not decrypt with it.
                self.assertNotIn("KmsKeyId", p)

    def test_function(self):
        s = stack(LogLevel="debug", MetricsNamespace="Shop/Avatar", LogRetentionInDays=14, **LEDGER)
        res = s.resources["WebhookFunction"]
        self.assertEqual(res["Metadata"]["BuildMethod"], "makefile")
        fn = res["Properties"]
        self.assertEqual((fn["Runtime"], fn["Architectures"], fn["Handler"]), ("provided.al2023", ["arm64"], "bootstrap"))
        self.assertEqual(fn["Role"], {"Fn::GetAtt": ["WebhookFunctionRole", "Arn"]})
        self.assertLessEqual(fn["Timeout"], 10)
        self.assertEqual(fn["LoggingConfig"], {"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG", "LogGroup": {"Ref": "WebhookFunctionLogGroup"}})
        self.assertEqual(s.props("WebhookFunctionLogGroup")["LogGroupName"], f"/aws/lambda/{STACK}-WebhookFunction")
        self.assertEqual(s.props("WebhookFunctionLogGroup")["RetentionInDays"], "14")
        self.assertNotIn("ReservedConcurrentExecutions", fn)
        env = fn["Environment"]["Variables"]
        self.assertEqual(set(env), WEBHOOK_VARS)
        self.assertEqual(env["SESSIONS_TABLE"], {"Ref": "SessionsTable"})
        self.assertEqual(env["WEBHOOK_SECRET_ID"], {"Ref": "WebhookSecret"})
        self.assertEqual(env["WEBHOOK_HEADER_NAME"], "X-Webhook-Secret")
        self.assertEqual(env["TRULIENCE_CUSTOMER_ID"], "")
        self.assertEqual(env["SESSION_MAX_MINUTES"], "60")
        self.assertEqual(env["LOG_LEVEL"], "debug")
        self.assertEqual(env["METRICS_NAMESPACE"], "Shop/Avatar")
        # Nothing of the token function's: no API key, no origins.
        self.assertFalse(set(env) & (ENV_VARS - {"LOG_LEVEL", "METRICS_NAMESPACE"}))

        env = stack(WebhookHeaderName="X-Trulience-Auth", TrulienceCustomerId="1234", SessionMaxMinutes=90, **LEDGER).props(
            "WebhookFunction"
        )["Environment"]["Variables"]
        self.assertEqual((env["WEBHOOK_HEADER_NAME"], env["TRULIENCE_CUSTOMER_ID"], env["SESSION_MAX_MINUTES"]), ("X-Trulience-Auth", "1234", "90"))

    def test_releases_through_its_own_alias(self):
        s = stack(DeploymentStrategy="Canary10Percent5Minutes", **LEDGER)
        aliases = {a["Properties"]["FunctionName"]["Ref"]: a for a in s.of_type("AWS::Lambda::Alias").values()}
        self.assertEqual(set(aliases), {"TokenFunction", "WebhookFunction"})
        self.assertEqual(aliases["WebhookFunction"]["Properties"]["Name"], "live")
        # Only the token function's release is gradual.
        self.assertNotIn("UpdatePolicy", aliases["WebhookFunction"])
        self.assertIn("UpdatePolicy", aliases["TokenFunction"])


class WebhookRole(unittest.TestCase):
    """The receiver's role: its log group, its secret, the ledger; never the API key."""

    def test_least_privilege(self):
        for name, params in SECRET_CASES.items():
            with self.subTest(name):
                s = stack(**params, **LEDGER)
                role = s.props("WebhookFunctionRole")
                self.assertNotIn("ManagedPolicyArns", role)
                self.assertEqual(
                    role["AssumeRolePolicyDocument"]["Statement"],
                    [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
                )
                sts = statements(s, "WebhookFunctionRole")
                self.assertEqual(
                    actions(sts),
                    sorted(["logs:CreateLogStream", "logs:PutLogEvents", "secretsmanager:GetSecretValue"] + LEDGER_ACTIONS),
                )
                by_sid = {st["Sid"]: st for st in sts}
                self.assertEqual(by_sid["WriteItsOwnLogGroup"]["Resource"], {"Fn::GetAtt": ["WebhookFunctionLogGroup", "Arn"]})
                self.assertEqual(by_sid["ReadTheWebhookSecret"]["Resource"], {"Ref": "WebhookSecret"})
                self.assertEqual(sorted(as_list(by_sid["KeepTheSessionLedger"]["Action"])), LEDGER_ACTIONS)
                self.assertEqual(by_sid["KeepTheSessionLedger"]["Resource"], {"Fn::GetAtt": ["SessionsTable", "Arn"]})
                for st in sts:
                    self.assertEqual(st["Effect"], "Allow")
                    self.assertNotIn("Condition", st)
                    self.assertNotIn("*", json.dumps(st["Resource"]))

    def test_cannot_read_the_api_key(self):
        for name, params in SECRET_CASES.items():
            with self.subTest(name):
                s = stack(**params, **LEDGER)
                text = json.dumps(statements(s, "WebhookFunctionRole"))
                for forbidden in ["TokenSecret", SECRET_ARN, KMS_ARN, "kms:", "LimitsTable"]:
                    self.assertNotIn(forbidden, text)
                reads = [st for st in statements(s, "WebhookFunctionRole") if "secretsmanager:GetSecretValue" in as_list(st["Action"])]
                self.assertEqual([st["Resource"] for st in reads], [{"Ref": "WebhookSecret"}])
                # And the token function cannot read the webhook's secret.
                self.assertNotIn("WebhookSecret", json.dumps(s.role_statements()))
                env = s.props("WebhookFunction")["Environment"]["Variables"]
                self.assertNotIn("TRULIENCE_SECRET_ID", env)


class Caps(unittest.TestCase):
    """The token function reads the ledger only when a cap is set."""

    def ledger_reads(self, s):
        return [st for st in s.role_statements() if st.get("Sid") == "ReadTheSessionLedger"]

    def test_ledger_without_caps(self):
        s = stack(**LEDGER)
        self.assertEqual(self.ledger_reads(s), [])
        env = s.function()["Environment"]["Variables"]
        self.assertFalse(set(env) & SESSION_VARS)
        self.assertFalse(set(env) & LIMITS_VARS)
        self.assertNotIn("SessionsTable", json.dumps(s.role_statements()))

    def test_each_cap(self):
        cases = {
            "live sessions": dict(MaxLiveSessions="20"),
            "daily minutes": dict(DailySessionMinutes="600"),
            "both, closed": dict(LimitsFailMode="closed", **CAPS),
            "with limits": dict(ClientTokenLimit="5/10m", MaxLiveSessions="3"),
        }
        for name, caps in cases.items():
            with self.subTest(name):
                s = stack(**caps, **LEDGER)
                env = s.function()["Environment"]["Variables"]
                self.assertEqual(env["SESSIONS_TABLE"], {"Ref": "SessionsTable"})
                self.assertEqual(env.get("MAX_LIVE_SESSIONS"), caps.get("MaxLiveSessions"))
                self.assertEqual(env.get("DAILY_SESSION_MINUTES"), caps.get("DailySessionMinutes"))
                # The caps follow the limits' fail mode.
                self.assertEqual(env["LIMITS_FAIL_MODE"], caps.get("LimitsFailMode", "open"))
                (st,) = self.ledger_reads(s)
                self.assertEqual(sorted(as_list(st["Action"])), ["dynamodb:GetItem", "dynamodb:Query"])
                self.assertEqual(st["Resource"], {"Fn::GetAtt": ["SessionsTable", "Arn"]})
                # Never a write: the webhook keeps the ledger.
                on_table = [a for x in s.role_statements() if x["Resource"] == st["Resource"] for a in as_list(x["Action"])]
                self.assertEqual(sorted(on_table), ["dynamodb:GetItem", "dynamodb:Query"])

    def test_settings_without_the_ledger_are_refused(self):
        for params in [dict(MaxLiveSessions="5"), dict(DailySessionMinutes="60"), dict(DailySessionMinutesAlarm="60"),
                       dict(TrulienceCustomerId="42")]:
            with self.subTest(params):
                s = stack(**params)
                self.assertEqual(rules_broken(s), ["SessionSettingsNeedTheLedger"])
                self.assertFalse(LEDGER_RESOURCES & set(s.resources))
                self.assertFalse(set(s.function()["Environment"]["Variables"]) & SESSION_VARS)
        for params in [{}, LEDGER, dict(DailySessionMinutesAlarm="60", TrulienceCustomerId="42", **CAPS, **LEDGER)]:
            with self.subTest(params):
                self.assertEqual(rules_broken(stack(**params)), [])


class Route(unittest.TestCase):
    """POST /webhook on the same API, never behind the JWT authorizer."""

    def test_route_without_security(self):
        for params in [LEDGER, dict(**JWT, **LEDGER), dict(AllowedOrigins="", **LEDGER)]:
            with self.subTest(params):
                s = stack(**params)
                body = s.api_body()
                self.assertEqual(list(body["paths"]), ["/token", "/webhook"])
                self.assertEqual(list(body["paths"]["/webhook"]), ["post"])
                post = body["paths"]["/webhook"]["post"]
                self.assertNotIn("security", post)
                self.assertEqual(set(post), {"responses", "x-amazon-apigateway-integration"}, "no CORS or other settings of its own")
                integration = post["x-amazon-apigateway-integration"]
                self.assertEqual((integration["type"], integration["payloadFormatVersion"]), ("aws_proxy", "2.0"))
                self.assertIn("${WebhookFunctionAliaslive}", json.dumps(integration["uri"]))
                # The signed-in mode's authorizer stays on /token alone.
                token = body["paths"]["/token"]["post"]
                self.assertEqual("security" in token, "JwtIssuer" in params)
                self.assertNotIn("security", body, "no API-wide security")
                for t in ("AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Authorizer"):
                    self.assertEqual(s.of_type(t), {}, t)

    def test_invoked_only_by_its_route_through_its_alias(self):
        s = stack(**LEDGER)
        perms = {p["Properties"]["FunctionName"]["Ref"]: p["Properties"] for p in s.of_type("AWS::Lambda::Permission").values()}
        self.assertEqual(set(perms), {"TokenFunctionAliaslive", "WebhookFunctionAliaslive"})
        webhook = perms["WebhookFunctionAliaslive"]
        self.assertEqual(webhook["Principal"], "apigateway.amazonaws.com")
        self.assertTrue(webhook["SourceArn"].endswith("/POST/webhook"), webhook["SourceArn"])
        (raw,) = [r for r in s.cfn["Resources"].values()
                  if r["Type"] == "AWS::Lambda::Permission" and "/POST/webhook" in json.dumps(r["Properties"]["SourceArn"])]
        self.assertEqual(raw["Properties"]["SourceArn"]["Fn::Sub"][1]["__ApiId__"], {"Ref": "TokenApi"})

    def test_cors_is_the_apis_and_unchanged(self):
        # CORS is API-wide in an HTTP API; the ledger adds no method or header
        # (Trulience's servers send no Origin, so they never see CORS headers).
        for origins in ["https://www.example.com", "*"]:
            with self.subTest(origins):
                plain = stack(AllowedOrigins=origins).api_body()["x-amazon-apigateway-cors"]
                ledger = stack(AllowedOrigins=origins, **LEDGER).api_body()["x-amazon-apigateway-cors"]
                self.assertEqual(ledger, plain)
                self.assertEqual(ledger["allowMethods"], ["POST"])
        self.assertNotIn("x-amazon-apigateway-cors", stack(AllowedOrigins="", **LEDGER).api_body())

    def test_webhook_url_output(self):
        s = stack(**LEDGER)
        self.assertEqual(s.outputs["WebhookUrl"], f"https://${{TokenApi}}.execute-api.{REGION}.amazonaws.com/webhook")
        s = stack(DomainName="token.example.com", CertificateArn=CERT, **LEDGER)
        self.assertEqual(s.outputs["WebhookUrl"], "https://token.example.com/webhook")
        self.assertEqual(s.outputs["TokenEndpoint"], "https://token.example.com/token")


class SessionAlarms(unittest.TestCase):
    """The ledger's alarms: only with the ledger and someone to tell."""

    def test_none_without_the_ledger_or_a_recipient(self):
        for params in [dict(AlarmEmail="ops@example.com"), dict(DailySessionMinutesAlarm="100", **LEDGER), LEDGER]:
            with self.subTest(params):
                names = set(stack(**params).resources)
                self.assertNotIn("SessionMinutesAlarm", names)
                self.assertNotIn("WebhookRejectedAlarm", names)

    def test_webhook_rejected(self):
        s = stack(AlarmTopicArn=TOPIC_ARN, MetricsNamespace="Shop/Avatar", **LEDGER)
        self.assertNotIn("SessionMinutesAlarm", s.resources)
        a = s.props("WebhookRejectedAlarm")
        self.assertEqual(a["AlarmName"], f"{STACK}-webhook-rejected")
        self.assertEqual((a["Namespace"], a["MetricName"], a["Statistic"]), ("Shop/Avatar", "WebhookRejected", "Sum"))
        self.assertNotIn("Dimensions", a, "the total over every Reason")
        # M of N: one stray call does not page anyone.
        self.assertGreater(int(a["DatapointsToAlarm"]), 1)
        self.assertLess(int(a["DatapointsToAlarm"]), int(a["EvaluationPeriods"]))
        self.assertEqual(a["TreatMissingData"], "notBreaching")
        self.assertEqual(a["AlarmActions"], [TOPIC_ARN])
        self.assertEqual(a["OKActions"], [TOPIC_ARN])
        for word in ["unauthorized", "make webhook-header", "invalid_request", "ledger_unavailable"]:
            self.assertIn(word, a["AlarmDescription"])

    def test_daily_session_minutes(self):
        s = stack(AlarmEmail="ops@example.com", DailySessionMinutesAlarm="900", MetricsNamespace="Shop/Avatar", **LEDGER)
        a = s.props("SessionMinutesAlarm")
        self.assertEqual(a["AlarmName"], f"{STACK}-daily-session-minutes")
        self.assertEqual(a["Threshold"], "900")
        self.assertEqual(a["ComparisonOperator"], "GreaterThanThreshold")
        self.assertEqual(a["EvaluationPeriods"], 1)
        self.assertEqual(a["AlarmActions"], [{"Ref": "AlarmTopic"}])
        # The threshold is minutes; the metric is seconds: SessionSeconds / 60.
        metrics = {m["Id"]: m for m in a["Metrics"]}
        seconds = metrics["seconds"]
        self.assertFalse(seconds["ReturnData"])
        self.assertEqual(seconds["MetricStat"]["Metric"], {"Namespace": "Shop/Avatar", "MetricName": "SessionSeconds"})
        self.assertEqual((seconds["MetricStat"]["Period"], seconds["MetricStat"]["Stat"]), (86400, "Sum"))
        returned = [m for m in a["Metrics"] if m.get("ReturnData", True)]
        self.assertEqual(len(returned), 1)
        self.assertEqual(re.sub(r"\s", "", returned[0]["Expression"]), "seconds/60")
        for key in ["MetricName", "Namespace", "Statistic", "Period"]:
            self.assertNotIn(key, a, "metric math alarms name their metric in Metrics only")
        for word in ["make sessions", "make pause", "DailySessionMinutes"]:
            self.assertIn(word, a["AlarmDescription"])

    def test_descriptions_say_what_to_do(self):
        s = stack(AlarmEmail="ops@example.com", DailySessionMinutesAlarm="900", **CAPS, **LEDGER)
        names = [a["AlarmName"] for a in alarms(s).values()]
        self.assertEqual(len(names), len(set(names)))
        for name in ["SessionMinutesAlarm", "WebhookRejectedAlarm"]:
            self.assertGreater(len(s.props(name)["AlarmDescription"]), 120, name)

    def test_limits_unavailable_covers_the_caps(self):
        self.assertNotIn("LimitsUnavailableAlarm", stack(AlarmEmail="ops@example.com", **LEDGER).resources)
        for caps in [dict(MaxLiveSessions="5"), dict(DailySessionMinutes="60")]:
            with self.subTest(caps):
                s = stack(AlarmEmail="ops@example.com", **caps, **LEDGER)
                a = s.props("LimitsUnavailableAlarm")
                self.assertEqual(a["MetricName"], "LimitsUnavailable")
                self.assertIn("session", a["AlarmDescription"])


class SessionDashboard(unittest.TestCase):
    def body(self, **params):
        (dash,) = stack(**params).of_type("AWS::CloudWatch::Dashboard").values()
        text = dash["Properties"]["DashboardBody"]
        self.assertIsInstance(text, str)
        self.assertLessEqual(set(re.findall(r"\$\{([^}]*)\}", text)), {"TokenApi", "TokenFunction"})
        text = text.replace("${TokenApi}", "a1b2c3d4e5").replace("${TokenFunction}", f"{STACK}-TokenFunction-AbC")
        return json.loads(text)

    def titles(self, body):
        return [w["properties"]["title"] for w in body["widgets"]]

    def test_widgets_only_with_the_ledger(self):
        plain = self.body(MetricsNamespace="Shop/Avatar")
        body = self.body(MetricsNamespace="Shop/Avatar", **LEDGER)
        new = [t for t in self.titles(body) if t not in self.titles(plain)]
        self.assertEqual(new, ["Live sessions", "Session minutes (ended, per hour)", "Webhook rejections by reason"])
        self.assertEqual(body["widgets"][: len(plain["widgets"])], plain["widgets"])
        text = json.dumps(body)
        for metric in ["LiveSessions", "SessionSeconds", "SessionsStarted", "SessionsEnded"]:
            self.assertIn(f'["Shop/Avatar", "{metric}"', text)
        self.assertIn("SEARCH('{Shop/Avatar,Reason} MetricName=\\\"WebhookRejected\\\"', 'Sum', 300)", text)
        for w in body["widgets"]:
            self.assertEqual(w["properties"]["region"], REGION)
        # No two widgets overlap.
        cells = set()
        for w in body["widgets"]:
            for x in range(w["x"], w["x"] + w["width"]):
                for y in range(w["y"], w["y"] + w["height"]):
                    self.assertNotIn((x, y), cells, w["properties"]["title"])
                    cells.add((x, y))


class Parameters(unittest.TestCase):
    def setUp(self):
        self.params = load_sam()["Parameters"]

    def test_names_defaults_and_patterns(self):
        self.assertEqual(self.params["SessionLedger"]["AllowedValues"], ["off", "on"])
        self.assertEqual(self.params["SessionLedger"]["Default"], "off")
        self.assertEqual(self.params["WebhookHeaderName"]["Default"], "X-Webhook-Secret")
        spec = self.params["SessionMaxMinutes"]
        self.assertEqual((spec["Type"], spec["Default"], spec["MinValue"], spec["MaxValue"]), ("Number", 60, 1, 1440))
        cases = {
            "WebhookHeaderName": (["X-Webhook-Secret", "X-Trulience-Auth", "Xy", "a" * 64], ["", "X", "X Webhook", "X_Webhook", "-X", "X-", "X:Y", "a" * 65]),
            "TrulienceCustomerId": (["", "1", "123456"], ["abc", "-1", "1 2", "1" * 21]),
            "MaxLiveSessions": (["", "1", "50", "999999"], ["0", "-1", "05", "1e3", "1000000"]),
            "DailySessionMinutes": (["", "1", "600", "14400"], ["0", "-5", "60m", "1.5"]),
            "DailySessionMinutesAlarm": (["", "0", "900"], ["-1", "1e3", "9 00"]),
        }
        for name, (good, bad) in cases.items():
            pattern = self.params[name]["AllowedPattern"]
            for value in good:
                with self.subTest(name=name, value=value):
                    self.assertIsNotNone(re.fullmatch(pattern, value))
            for value in bad:
                with self.subTest(name=name, value=value):
                    self.assertIsNone(re.fullmatch(pattern, value))

    def test_grouped_in_the_console(self):
        groups = load_sam()["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
        grouped = [p for g in groups for p in g["Parameters"]]
        self.assertEqual(sorted(grouped), sorted(self.params), "every parameter in exactly one group")
        (ledger,) = [g for g in groups if "SessionLedger" in g["Parameters"]]
        self.assertEqual(ledger["Parameters"][0], "SessionLedger")


def arn_allowed(role, action, arn):
    """Whether one of the deploy role's statements allows action on arn."""
    subs = {"${AWS::Partition}": "aws", "${AWS::Region}": REGION, "${AWS::AccountId}": ACCOUNT, "${TokenStackName}": STACK}
    for st in role.statements():
        if action.lower() not in {a.lower() for a in as_list(st["Action"])}:
            continue
        for resource in as_list(st["Resource"]):
            text = resource["Fn::Sub"] if isinstance(resource, dict) else resource
            for k, v in subs.items():
                text = text.replace(k, v)
            if fnmatch.fnmatchcase(arn, text):
                return True
    return False


class DeployRoleNames(unittest.TestCase):
    """The deploy role's permission check goes by resource type; this checks
    that the ledger's named resources fall under the role's name patterns."""

    def test_the_role_may_manage_what_the_ledger_names(self):
        role = Role(load_yaml(ROLE_TEMPLATE))
        s = stack(AlarmEmail="ops@example.com", DailySessionMinutesAlarm="900", **LEDGER)
        secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{s.props('WebhookSecret')['Name']}-AbC123"
        table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{s.props('SessionsTable')['TableName']}"
        logs = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{s.props('WebhookFunctionLogGroup')['LogGroupName']}"
        cases = [
            ("secretsmanager:CreateSecret", secret),
            ("secretsmanager:DeleteSecret", secret),
            ("secretsmanager:DescribeSecret", secret),
            ("dynamodb:CreateTable", table),
            ("dynamodb:UpdateTimeToLive", table),
            ("logs:CreateLogGroup", logs),
            ("lambda:CreateFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{STACK}-WebhookFunction-AbCdEf"),
            ("lambda:CreateAlias", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{STACK}-WebhookFunction-AbCdEf:live"),
            ("iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/{STACK}-WebhookFunctionRole-AbCdEf"),
        ]
        for name in ["SessionMinutesAlarm", "WebhookRejectedAlarm"]:
            cases.append(("cloudwatch:PutMetricAlarm", f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{s.props(name)['AlarmName']}"))
        for action, arn in cases:
            with self.subTest(action=action, arn=arn):
                self.assertTrue(arn_allowed(role, action, arn))
        # Still never the value of either secret.
        self.assertFalse(arn_allowed(role, "secretsmanager:GetSecretValue", secret))
        # And nothing of another stack's.
        self.assertFalse(arn_allowed(role, "secretsmanager:CreateSecret", secret.replace(STACK, "other-stack")))


if __name__ == "__main__":
    unittest.main()
