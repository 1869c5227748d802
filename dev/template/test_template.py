"""Checks what template.yaml deploys, after the real SAM transform.

The template is transformed offline with aws-sam-translator (the library the
AWS::Serverless transform runs), then the CloudFormation result is resolved
for one set of parameter values the way CloudFormation would (conditions,
Fn::If, AWS::NoValue, Ref, Fn::Sub, Fn::Split), so each test reads the
resources a stack with those parameters really gets.

Run (make test does): .venv/bin/python -m unittest discover -s dev/template -v
"""

import functools
import json
import logging
import os
import re
import subprocess
import sys
import tomllib
import unittest

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

# The translator warns about usage metrics it would publish to CloudWatch; we publish none.
logging.getLogger("samtranslator.metrics").setLevel(logging.ERROR)
# Offline, the translator has no feature toggle config and warns once per gradual deployment preference.
logging.getLogger("samtranslator.feature_toggle.feature_toggle").setLevel(logging.ERROR)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TEMPLATE = os.path.join(ROOT, "template.yaml")
SAMCONFIG = os.path.join(ROOT, "samconfig.toml")

REGION = "eu-west-1"
ACCOUNT = "123456789012"
STACK = "trulience-token"
PSEUDO = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::StackName": STACK,
    "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/51af3dc0-da77-11e4-872e-1234567db123",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}

AVATAR = "4386676996480451678"
ORIGINS = "http://localhost:8000,https://www.example.com"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:trulience/api-key-AbC123"
KMS_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"

ENV_VARS = {
    "TRULIENCE_SECRET_ID",
    "TRULIENCE_API_URL",
    "ALLOWED_AVATAR_IDS",
    "ALLOWED_ORIGINS",
    "SECRET_TTL",
    "UPSTREAM_TIMEOUT",
    "LOG_LEVEL",
    "MAX_EXPIRE_AT",
    "AVATAR_CLAIM",
    "METRICS_NAMESPACE",
    "BOT_CHECK",
    "TURNSTILE_HOSTNAMES",
    "TURNSTILE_ACTION",
    "BOT_CHECK_TIMEOUT",
    "MAX_KEY_STALENESS",
}

LIMITS_VARS = {"CLIENT_TOKEN_LIMIT", "DAILY_TOKEN_LIMIT", "LIMITS_TABLE", "LIMITS_FAIL_MODE"}

# The token function's session caps (SessionLedger=on with MaxLiveSessions or DailySessionMinutes).
SESSION_VARS = {"SESSIONS_TABLE", "MAX_LIVE_SESSIONS", "DAILY_SESSION_MINUTES"}


class _NoValue:
    """AWS::NoValue: the key or list item disappears."""


NO_VALUE = _NoValue()


def load_sam():
    with open(TEMPLATE, encoding="utf-8") as f:
        return yaml_parse(f.read())


def transform(params):
    """Returns the CloudFormation template SAM makes of template.yaml."""
    sam = load_sam()
    # sam build/package replace each function's local CodeUri with the uploaded artifact.
    for name, res in sam["Resources"].items():
        if res["Type"] == "AWS::Serverless::Function":
            res["Properties"]["CodeUri"] = f"s3://artifacts/{name}.zip"
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=REGION))
    return translator.translate(
        sam,
        parameter_values=dict(params),
        passthrough_metadata=True,
        get_managed_policy_map=dict,
    )


class Stack:
    """The resources and outputs a stack gets for one set of parameter values."""

    def __init__(self, **params):
        self.cfn = transform(params)
        self.params = {}
        for name, spec in self.cfn["Parameters"].items():
            if name in params:
                self.params[name] = str(params[name])
            elif "Default" in spec:
                self.params[name] = str(spec["Default"])
            else:
                raise AssertionError(f"parameter {name} has no default and no value")
        self.conditions = {}
        for name in self.cfn.get("Conditions", {}):
            self._condition(name)
        self.resources = {}
        for name, res in self.cfn["Resources"].items():
            if "Condition" in res and not self._condition(res["Condition"]):
                continue
            self.resources[name] = res
        self.resources = {name: self.resolve(res) for name, res in self.resources.items()}
        self.outputs = {
            name: self.resolve(out["Value"])
            for name, out in self.cfn.get("Outputs", {}).items()
            if "Condition" not in out or self._condition(out["Condition"])
        }

    def _condition(self, name):
        if name not in self.conditions:
            self.conditions[name] = self._truth(self.cfn["Conditions"][name])
        return self.conditions[name]

    def _truth(self, node):
        (fn, args), = node.items()
        if fn == "Fn::Equals":
            a, b = (self.resolve(x) for x in args)
            return str(a) == str(b)
        if fn == "Fn::Not":
            return not self._truth(args[0])
        if fn == "Fn::And":
            return all(self._truth(x) for x in args)
        if fn == "Fn::Or":
            return any(self._truth(x) for x in args)
        if fn == "Condition":
            return self._condition(args)
        raise AssertionError(f"unsupported condition function {fn}")

    def _ref(self, name):
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.params:
            return self.params[name]
        if name not in self.resources:
            raise AssertionError(f"Ref to {name}, which this stack does not create")
        return {"Ref": name}

    def _sub(self, text, variables):
        def one(m):
            key = m.group(1)
            if key in variables:
                value = self.resolve(variables[key])
                return value if isinstance(value, str) else m.group(0)
            if key in PSEUDO or key in self.params:
                return self._ref(key)
            if key.split(".")[0] not in self.resources:
                raise AssertionError(f"Fn::Sub names {key}, which this stack does not create")
            return m.group(0)

        return re.sub(r"\$\{([^!}][^}]*)\}", one, text)

    def resolve(self, node):
        """Evaluates intrinsics the way CloudFormation would for these parameters."""
        if isinstance(node, list):
            items = [self.resolve(x) for x in node]
            return [x for x in items if x is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, value), = node.items()
            if key == "Ref":
                return self._ref(value)
            if key == "Fn::If":
                cond, yes, no = value
                return self.resolve(yes if self._condition(cond) else no)
            if key == "Fn::FindInMap":
                table, first, second = (self.resolve(x) for x in value)
                return self.cfn["Mappings"][table][first][second]
            if key == "Fn::Split":
                sep, text = value
                text = self.resolve(text)
                if isinstance(text, str):
                    return text.split(sep)
                return {"Fn::Split": [sep, text]}
            if key == "Fn::Sub":
                if isinstance(value, str):
                    return self._sub(value, {})
                return self._sub(value[0], value[1])
            if key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else value.split(".")[0]
                if target not in self.resources:
                    raise AssertionError(f"Fn::GetAtt on {target}, which this stack does not create")
                return node
        out = {}
        for key, value in node.items():
            value = self.resolve(value)
            if value is not NO_VALUE:
                out[key] = value
        return out

    def props(self, name):
        return self.resources[name]["Properties"]

    def of_type(self, cfn_type):
        return {n: r for n, r in self.resources.items() if r["Type"] == cfn_type}

    def function(self):
        return self.props("TokenFunction")

    def role_statements(self):
        role = self.props("TokenFunctionRole")
        statements = []
        for policy in role.get("Policies", []):
            doc = policy["PolicyDocument"]
            statements.extend(doc["Statement"])
        return statements

    def api_body(self):
        return self.props("TokenApi")["Body"]

    def stage(self):
        (stage,) = self.of_type("AWS::ApiGatewayV2::Stage").values()
        return stage["Properties"]


# What the function's role may do with logs: write to streams of its own group.
LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"]


def as_list(value):
    return value if isinstance(value, list) else [value]


# The four ways the secret can be wired: created or given, with or without a KMS key.
SECRET_CASES = {
    "created secret": dict(),
    "created secret, KMS key": dict(KmsKeyArn=KMS_ARN),
    "existing secret": dict(ExistingSecretArn=SECRET_ARN),
    "existing secret, KMS key": dict(ExistingSecretArn=SECRET_ARN, KmsKeyArn=KMS_ARN),
}


def stack(**extra):
    """The stack for the example site's avatar and origins, with extra parameter values."""
    return _stack(tuple(sorted(extra.items())))


@functools.lru_cache(maxsize=None)
def _stack(extra):
    params = {"AllowedAvatarIds": AVATAR, "AllowedOrigins": ORIGINS}
    params.update(extra)
    return Stack(**params)


class SecretAccess(unittest.TestCase):
    """The function's role can read exactly one secret, and decrypt only through it."""

    def test_least_privilege(self):
        for name, params in SECRET_CASES.items():
            with self.subTest(name):
                s = stack(**params)
                creates = "ExistingSecretArn" not in params
                secret = {"Ref": "TokenSecret"} if creates else SECRET_ARN
                kms = params.get("KmsKeyArn")

                self.assertEqual("TokenSecret" in s.resources, creates)
                self.assertEqual(s.function()["Environment"]["Variables"]["TRULIENCE_SECRET_ID"], secret)
                self.assertEqual(s.outputs["SecretArn"], secret)

                statements = s.role_statements()
                actions = sorted(a for st in statements for a in as_list(st["Action"]))
                self.assertEqual(
                    actions,
                    sorted(LOG_ACTIONS + ["secretsmanager:GetSecretValue"] + (["kms:Decrypt"] if kms else [])),
                )
                for st in statements:
                    self.assertEqual(st["Effect"], "Allow")
                    self.assertNotIn("*", json.dumps(st["Resource"]), f"wildcard resource in {st}")
                    self.assertNotIn("NotResource", st)
                    self.assertNotIn("NotAction", st)

                (read,) = [st for st in statements if st["Action"] == "secretsmanager:GetSecretValue"]
                self.assertEqual(read["Resource"], secret)

                decrypts = [st for st in statements if "kms:Decrypt" in as_list(st["Action"])]
                if not kms:
                    self.assertEqual(decrypts, [])
                    continue
                (decrypt,) = decrypts
                self.assertEqual(decrypt["Resource"], kms)
                self.assertEqual(
                    decrypt["Condition"],
                    {"StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}},
                )

    def test_no_managed_policy_is_attached(self):
        for name, params in SECRET_CASES.items():
            with self.subTest(name):
                s = stack(**params)
                role = s.props("TokenFunctionRole")
                self.assertNotIn("ManagedPolicyArns", role)
                self.assertNotIn("PermissionsBoundary", role)
                self.assertEqual(len(s.of_type("AWS::IAM::Role")), 1)
                self.assertEqual(s.of_type("AWS::IAM::Policy"), {})
                self.assertEqual(s.of_type("AWS::IAM::ManagedPolicy"), {})
                self.assertEqual(s.function()["Role"], {"Fn::GetAtt": ["TokenFunctionRole", "Arn"]})
                trust = role["AssumeRolePolicyDocument"]["Statement"]
                self.assertEqual(trust, [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}])

    def test_created_secret_holds_a_placeholder_the_function_refuses(self):
        for name, params in SECRET_CASES.items():
            if "ExistingSecretArn" in params:
                continue
            with self.subTest(name):
                secret = stack(**params).props("TokenSecret")
                value = json.loads(secret["SecretString"])
                self.assertEqual(set(value), {"api_key"})
                self.assertFalse(value["api_key"].startswith("tru_"))
                self.assertIn("scripts/put-api-key.sh", value["api_key"])
                if "KmsKeyArn" in params:
                    self.assertEqual(secret["KmsKeyId"], KMS_ARN)
                else:
                    self.assertNotIn("KmsKeyId", secret)


class Logs(unittest.TestCase):
    """The function may write to its own log group only: no logs permission on "*"."""

    def test_logs_only_in_its_own_group(self):
        for name, params in SECRET_CASES.items():
            with self.subTest(name):
                s = stack(**params)
                statements = s.role_statements()
                logs = [st for st in statements if any(a.startswith("logs:") for a in as_list(st["Action"]))]
                self.assertEqual(len(logs), 1, logs)
                (st,) = logs
                self.assertEqual(sorted(as_list(st["Action"])), LOG_ACTIONS)
                self.assertEqual(st["Resource"], {"Fn::GetAtt": ["TokenFunctionLogGroup", "Arn"]})
                self.assertEqual(
                    s.props("TokenFunctionLogGroup")["LogGroupName"], f"/aws/lambda/{STACK}-TokenFunction"
                )
                for st in statements:
                    for resource in as_list(st["Resource"]):
                        self.assertNotEqual(resource, "*", st)
                        self.assertNotIn("logs:*", as_list(st["Action"]))


EMAIL = "ops@example.com"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:on-call"

# The alarms every alarmed stack gets, by metric: (namespace, metric name).
ALARMED_METRICS = {
    ("AWS/Lambda", "Errors"),
    ("AWS/Lambda", "Throttles"),
    ("AWS/Lambda", "Duration"),
    ("AWS/ApiGateway", "5xx"),
    ("TrulienceToken", "UpstreamErrors"),
    ("TrulienceToken", "BotCheckFailed"),
}


def alarms(s):
    return {n: r["Properties"] for n, r in s.of_type("AWS::CloudWatch::Alarm").items()}


def alarm_for(s, metric):
    (alarm,) = [a for a in alarms(s).values() if a["MetricName"] == metric]
    return alarm


class Alarms(unittest.TestCase):
    """Alarms and their SNS topic exist only when someone is there to be told."""

    def test_none_without_a_recipient(self):
        for params in [{}, {"DailyTokenAlarm": "500"}, {"DurationAlarmMs": 2000}]:
            with self.subTest(params):
                s = stack(**params)
                self.assertEqual(alarms(s), {})
                self.assertEqual(s.of_type("AWS::SNS::Topic"), {})
                self.assertEqual(s.of_type("AWS::SNS::Subscription"), {})

    def test_email_creates_a_topic_and_subscribes_it(self):
        s = stack(AlarmEmail=EMAIL)
        (topic,) = s.of_type("AWS::SNS::Topic")
        (sub,) = s.of_type("AWS::SNS::Subscription").values()
        self.assertEqual(sub["Properties"], {"TopicArn": {"Ref": topic}, "Protocol": "email", "Endpoint": EMAIL})
        for name, alarm in alarms(s).items():
            with self.subTest(name):
                self.assertEqual(alarm["AlarmActions"], [{"Ref": topic}])
                self.assertEqual(alarm["OKActions"], [{"Ref": topic}])

    def test_existing_topic_is_used_as_is(self):
        s = stack(AlarmTopicArn=TOPIC_ARN)
        self.assertEqual(s.of_type("AWS::SNS::Topic"), {})
        self.assertEqual(s.of_type("AWS::SNS::Subscription"), {})
        for name, alarm in alarms(s).items():
            with self.subTest(name):
                self.assertEqual(alarm["AlarmActions"], [TOPIC_ARN])

    def test_both_recipients_are_told(self):
        s = stack(AlarmEmail=EMAIL, AlarmTopicArn=TOPIC_ARN)
        for alarm in alarms(s).values():
            self.assertEqual(alarm["AlarmActions"], [{"Ref": "AlarmTopic"}, TOPIC_ARN])

    def test_the_alarms(self):
        for params in [{"AlarmEmail": EMAIL}, {"AlarmTopicArn": TOPIC_ARN}]:
            with self.subTest(params):
                s = stack(**params)
                got = {(a["Namespace"], a["MetricName"]) for a in alarms(s).values()}
                self.assertEqual(got, ALARMED_METRICS)
                for name, a in alarms(s).items():
                    self.assertTrue(a["AlarmName"].startswith(f"{STACK}-"), a["AlarmName"])
                    self.assertGreater(len(a["AlarmDescription"]), 120, f"{name}: say what to do")
                    self.assertEqual(a["TreatMissingData"], "notBreaching")
                    self.assertIn("ComparisonOperator", a)
                names = [a["AlarmName"] for a in alarms(s).values()]
                self.assertEqual(len(names), len(set(names)))

    def test_lambda_alarms(self):
        s = stack(AlarmEmail=EMAIL, DurationAlarmMs=2500)
        for metric in ["Errors", "Throttles", "Duration"]:
            with self.subTest(metric):
                a = alarm_for(s, metric)
                self.assertEqual(a["Dimensions"], [{"Name": "FunctionName", "Value": {"Ref": "TokenFunction"}}])
        duration = alarm_for(s, "Duration")
        self.assertEqual(duration["ExtendedStatistic"], "p99")
        self.assertNotIn("Statistic", duration)
        self.assertEqual(duration["Threshold"], "2500")

    def test_http_api_alarm_uses_the_http_api_metric_name(self):
        s = stack(AlarmEmail=EMAIL)
        a = alarm_for(s, "5xx")
        self.assertEqual(a["Namespace"], "AWS/ApiGateway")
        self.assertEqual(
            a["Dimensions"], [{"Name": "ApiId", "Value": {"Ref": "TokenApi"}}, {"Name": "Stage", "Value": "$default"}]
        )
        self.assertEqual(s.stage()["StageName"], "$default")
        for alarm in alarms(s).values():
            self.assertNotIn(alarm["MetricName"], {"5XXError", "4XXError"}, "REST API names: an HTTP API has none")

    def test_custom_metric_alarms_need_m_out_of_n(self):
        s = stack(AlarmEmail=EMAIL, MetricsNamespace="Shop/Avatar")
        for metric in ["UpstreamErrors", "BotCheckFailed"]:
            with self.subTest(metric):
                a = alarm_for(s, metric)
                self.assertEqual(a["Namespace"], "Shop/Avatar")
                self.assertNotIn("Dimensions", a, "the function emits these metrics without dimensions")
                self.assertEqual(a["Statistic"], "Sum")
                self.assertLess(int(a["DatapointsToAlarm"]), int(a["EvaluationPeriods"]))
                self.assertGreater(int(a["DatapointsToAlarm"]), 1)

    def test_daily_tokens_alarm_only_with_a_threshold(self):
        self.assertNotIn("DailyTokensAlarm", stack(AlarmEmail=EMAIL).resources)
        s = stack(AlarmTopicArn=TOPIC_ARN, DailyTokenAlarm="2000")
        a = alarm_for(s, "TokensIssued")
        self.assertEqual(a["Namespace"], "TrulienceToken")
        self.assertEqual((a["Statistic"], a["Period"], a["EvaluationPeriods"]), ("Sum", 86400, 1))
        self.assertEqual(a["Threshold"], "2000")
        self.assertEqual(a["ComparisonOperator"], "GreaterThanThreshold")
        self.assertEqual(a["AlarmActions"], [TOPIC_ARN])


    def test_limits_unavailable_alarm_only_with_limits_and_a_recipient(self):
        self.assertNotIn("LimitsUnavailableAlarm", stack(AlarmEmail=EMAIL).resources)
        self.assertNotIn("LimitsUnavailableAlarm", stack(ClientTokenLimit="5/10m").resources)
        for limits in [dict(ClientTokenLimit="5/10m"), dict(DailyTokenLimit="1000", LimitsFailMode="closed")]:
            with self.subTest(limits):
                s = stack(AlarmTopicArn=TOPIC_ARN, MetricsNamespace="Shop/Avatar", **limits)
                a = alarm_for(s, "LimitsUnavailable")
                self.assertEqual(a["Namespace"], "Shop/Avatar")
                self.assertNotIn("Dimensions", a, "the function emits this metric without dimensions")
                self.assertEqual((a["Statistic"], a["Period"], a["Threshold"]), ("Sum", 60, 1))
                # M of N: one slow read does not page anyone.
                self.assertEqual((a["DatapointsToAlarm"], a["EvaluationPeriods"]), (3, 5))
                self.assertIn("LimitsFailMode", a["AlarmDescription"])
                self.assertIn("docs/operations-limits.md", a["AlarmDescription"])
                self.assertEqual(a["AlarmActions"], [TOPIC_ARN])


class Dashboard(unittest.TestCase):
    """One dashboard, always, whose body is valid JSON once Fn::Sub has run."""

    def body(self, **params):
        s = stack(**params)
        (dash,) = s.of_type("AWS::CloudWatch::Dashboard").values()
        props = dash["Properties"]
        self.assertEqual(props["DashboardName"], f"{STACK}-token")
        text = props["DashboardBody"]
        self.assertIsInstance(text, str, "DashboardBody did not resolve to a string")
        # What Fn::Sub leaves are the resource references CloudFormation fills in.
        self.assertLessEqual(set(re.findall(r"\$\{([^}]*)\}", text)), {"TokenApi", "TokenFunction"})
        text = text.replace("${TokenApi}", "a1b2c3d4e5").replace("${TokenFunction}", f"{STACK}-TokenFunction-AbC")
        return json.loads(text)

    def test_always_there(self):
        for params in [{}, {"AlarmEmail": EMAIL}]:
            with self.subTest(params):
                self.assertIn("widgets", self.body(**params))

    def test_widgets(self):
        body = self.body(MetricsNamespace="Shop/Avatar")
        titles = [w["properties"]["title"] for w in body["widgets"]]
        for want in ["Tokens issued", "Refusals by reason", "Trulience latency (ms)", "Errors"]:
            self.assertIn(want, titles)
        for w in body["widgets"]:
            self.assertEqual(w["properties"]["region"], REGION)
        metrics = json.dumps(body)
        for name in ["TokensIssued", "UpstreamLatency", "UpstreamErrors", "BotCheckFailed", "LimitExceeded", "LimitsUnavailable"]:
            self.assertIn(f'["Shop/Avatar", "{name}"', metrics)
        self.assertNotIn("TrulienceToken", metrics)
        (refused,) = [w for w in body["widgets"] if w["properties"]["title"] == "Refusals by reason"]
        (expr,) = [m[0]["expression"] for m in refused["properties"]["metrics"]]
        self.assertEqual(expr, "SEARCH('{Shop/Avatar,Reason} MetricName=\"Refused\"', 'Sum', 300)")
        self.assertIn('["AWS/ApiGateway", "5xx", "ApiId", "a1b2c3d4e5", "Stage", "$default"', metrics)



class Function(unittest.TestCase):
    """Runtime, build and configuration of the token function."""

    def setUp(self):
        self.s = stack(TrulienceApiUrl="https://api.example.test", LogLevel="debug")
        self.fn = self.s.function()

    def test_runtime(self):
        self.assertEqual(self.fn["Runtime"], "provided.al2023")
        self.assertEqual(self.fn["Architectures"], ["arm64"])
        self.assertEqual(self.fn["Handler"], "bootstrap")
        # 512: the cheapest size whose cold path make bench measures within 15 % of the best.
        self.assertEqual(self.fn["MemorySize"], "512")
        self.assertEqual(stack(MemorySize="1024").function()["MemorySize"], "1024")
        self.assertEqual(self.s.resources["TokenFunction"]["Metadata"]["BuildMethod"], "makefile")

    def test_timeout_covers_the_worst_case_and_fits_the_http_api(self):
        # The sum the template's comment spells out: a key refresh (1 s), the
        # bot check (2 attempts of 2 s; the limits check runs alongside), a
        # Trulience call, at most 1 s of Retry-After, the one retry, and the
        # 0.3 s the handler keeps free to answer.
        upstream = self.fn["Environment"]["Variables"]["UPSTREAM_TIMEOUT"]
        m = re.fullmatch(r"(\d+)s", upstream)
        self.assertIsNotNone(m, upstream)
        worst = 1 + 2 * 2 + int(m.group(1)) + 1 + int(m.group(1)) + 0.3
        self.assertGreaterEqual(self.fn["Timeout"], worst)
        self.assertLess(self.fn["Timeout"], worst + 1, "more time than the worst case needs: visitors wait for it")
        self.assertLess(self.fn["Timeout"], 30)
        with open(TEMPLATE, encoding="utf-8") as f:
            self.assertIn(f"Timeout {self.fn['Timeout']} s", f.read(), "the arithmetic comment is out of date")

    def test_reserved_concurrency_only_when_given(self):
        self.assertNotIn("ReservedConcurrentExecutions", stack().function())
        for value in ["0", "5"]:
            with self.subTest(value):
                self.assertEqual(stack(ReservedConcurrency=value).function()["ReservedConcurrentExecutions"], value)
        spec = load_sam()["Parameters"]["ReservedConcurrency"]
        self.assertEqual(spec["Default"], "")
        self.assertIn("10", spec["Description"])
        self.assertIn("cannot reserve", spec["Description"])

    def test_metrics_namespace(self):
        self.assertEqual(stack().function()["Environment"]["Variables"]["METRICS_NAMESPACE"], "TrulienceToken")
        env = stack(MetricsNamespace="Shop/Avatar").function()["Environment"]["Variables"]
        self.assertEqual(env["METRICS_NAMESPACE"], "Shop/Avatar")

    def test_environment(self):
        env = self.fn["Environment"]["Variables"]
        self.assertEqual(set(env), ENV_VARS)
        self.assertEqual(env["TRULIENCE_API_URL"], "https://api.example.test")
        self.assertEqual(env["ALLOWED_AVATAR_IDS"], AVATAR)
        self.assertEqual(env["ALLOWED_ORIGINS"], ORIGINS)
        self.assertEqual(env["LOG_LEVEL"], "debug")
        self.assertEqual(env["SECRET_TTL"], "5m")
        self.assertEqual(env["MAX_EXPIRE_AT"], "600")
        self.assertEqual(env["AVATAR_CLAIM"], "")
        self.assertEqual(env["MAX_KEY_STALENESS"], "1h")

    def test_defaults(self):
        env = stack().function()["Environment"]["Variables"]
        self.assertEqual(env["TRULIENCE_API_URL"], "https://trulience.com")
        self.assertEqual(env["LOG_LEVEL"], "info")

    def test_bot_check_off_by_default(self):
        env = stack().function()["Environment"]["Variables"]
        self.assertEqual(env["BOT_CHECK"], "off")
        self.assertEqual(env["TURNSTILE_HOSTNAMES"], "")
        self.assertEqual(env["TURNSTILE_ACTION"], "")
        self.assertEqual(env["BOT_CHECK_TIMEOUT"], "2s")

    def test_bot_check_parameters_reach_the_function(self):
        env = stack(BotCheck="enforce", TurnstileHostnames="www.example.com,example.com", TurnstileAction="get-token").function()[
            "Environment"
        ]["Variables"]
        self.assertEqual(env["BOT_CHECK"], "enforce")
        self.assertEqual(env["TURNSTILE_HOSTNAMES"], "www.example.com,example.com")
        self.assertEqual(env["TURNSTILE_ACTION"], "get-token")
        self.assertEqual(load_sam()["Parameters"]["BotCheck"]["AllowedValues"], ["off", "monitor", "enforce"])

    def test_json_logs_to_its_own_group_with_retention(self):
        s = stack(LogRetentionInDays=14)
        logging = s.function()["LoggingConfig"]
        self.assertEqual(logging["LogFormat"], "JSON")
        self.assertEqual(logging["LogGroup"], {"Ref": "TokenFunctionLogGroup"})
        self.assertEqual(s.props("TokenFunctionLogGroup")["RetentionInDays"], "14")

    def test_invoked_only_by_its_route(self):
        perms = self.s.of_type("AWS::Lambda::Permission")
        self.assertEqual(len(perms), 1)
        (perm,) = perms.values()
        source = perm["Properties"]["SourceArn"]
        self.assertEqual(perm["Properties"]["Principal"], "apigateway.amazonaws.com")
        self.assertTrue(source.endswith("/POST/token"), source)


class HttpApi(unittest.TestCase):
    """The route, CORS, throttling and access logs of the HTTP API."""

    def test_route(self):
        body = stack().api_body()
        self.assertEqual(list(body["paths"]), ["/token"])
        self.assertEqual(list(body["paths"]["/token"]), ["post"])
        integration = body["paths"]["/token"]["post"]["x-amazon-apigateway-integration"]
        self.assertEqual(integration["type"], "aws_proxy")
        self.assertEqual(integration["payloadFormatVersion"], "2.0")
        # The API invokes the alias, never $LATEST: releases go through it.
        self.assertIn("${TokenFunctionAliaslive}", json.dumps(integration["uri"]))

    def test_cors_follows_the_origins_parameter(self):
        cases = {
            ORIGINS: ["http://localhost:8000", "https://www.example.com"],
            "https://www.example.com": ["https://www.example.com"],
            "*": ["*"],
        }
        for origins, want in cases.items():
            with self.subTest(origins):
                cors = stack(AllowedOrigins=origins).api_body()["x-amazon-apigateway-cors"]
                self.assertEqual(cors["allowOrigins"], want)
                self.assertEqual(cors["allowMethods"], ["POST"])
                self.assertEqual([h.lower() for h in cors["allowHeaders"]], ["content-type"])
                self.assertGreater(cors["maxAge"], 0)
                self.assertFalse(cors.get("allowCredentials", False))

    def test_no_cors_without_origins(self):
        body = stack(AllowedOrigins="").api_body()
        self.assertNotIn("x-amazon-apigateway-cors", body)
        self.assertEqual(list(body["paths"]["/token"]), ["post"])

    def test_throttling_follows_the_parameters(self):
        defaults = stack().stage()["DefaultRouteSettings"]
        self.assertEqual(defaults, {"ThrottlingBurstLimit": "20", "ThrottlingRateLimit": "10"})
        custom = stack(ThrottlingBurstLimit=5, ThrottlingRateLimit=2).stage()["DefaultRouteSettings"]
        self.assertEqual(custom, {"ThrottlingBurstLimit": "5", "ThrottlingRateLimit": "2"})

    def test_default_stage_writes_access_logs_with_retention(self):
        s = stack(LogRetentionInDays=7)
        stage = s.stage()
        self.assertEqual(stage["StageName"], "$default")
        self.assertTrue(stage["AutoDeploy"])
        logs = stage["AccessLogSettings"]
        self.assertEqual(logs["DestinationArn"], {"Fn::GetAtt": ["TokenApiAccessLogGroup", "Arn"]})
        fmt = json.loads(logs["Format"])
        self.assertEqual(fmt["requestId"], "$context.requestId")
        self.assertEqual(fmt["status"], "$context.status")
        self.assertEqual(s.props("TokenApiAccessLogGroup")["RetentionInDays"], "7")


ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"
AUDIENCE = "1example23456789abcdefghij"
JWT = dict(JwtIssuer=ISSUER, JwtAudience=AUDIENCE)


def rules_broken(s):
    """The Rules whose assertions fail for the stack's parameters (deploy refused)."""
    broken = []
    for name, rule in s.cfn.get("Rules", {}).items():
        if "RuleCondition" in rule and not s._truth(rule["RuleCondition"]):
            continue
        if not all(s._truth(a["Assert"]) for a in rule["Assertions"]):
            broken.append(name)
    return broken


class SignedIn(unittest.TestCase):
    """JwtIssuer + JwtAudience put a JWT authorizer on POST /token, and only then."""

    def authorizer(self, s):
        return s.api_body().get("components", {}).get("securitySchemes", {})

    def test_no_authorizer_without_the_parameters(self):
        for params in (dict(), dict(AllowedOrigins="")):
            with self.subTest(params):
                s = stack(**params)
                self.assertFalse(s.conditions["HasJwt"])
                body = s.api_body()
                self.assertEqual(self.authorizer(s), {})
                self.assertNotIn("components", body)
                post = body["paths"]["/token"]["post"]
                self.assertNotIn("security", post)
                self.assertEqual(post["x-amazon-apigateway-integration"]["type"], "aws_proxy")

    def test_authorizer_on_the_route_with_both_parameters(self):
        for origins in (ORIGINS, ""):
            with self.subTest(origins=origins):
                s = stack(AllowedOrigins=origins, **JWT)
                self.assertTrue(s.conditions["HasJwt"])
                schemes = self.authorizer(s)
                self.assertEqual(list(schemes), ["TokenAuthorizer"])
                scheme = schemes["TokenAuthorizer"]
                self.assertEqual(scheme["type"], "oauth2")
                self.assertEqual(
                    scheme["x-amazon-apigateway-authorizer"],
                    {
                        "type": "jwt",
                        "identitySource": "$request.header.Authorization",
                        "jwtConfiguration": {"issuer": ISSUER, "audience": [AUDIENCE]},
                    },
                )
                body = s.api_body()
                self.assertEqual(list(body["paths"]), ["/token"])
                self.assertEqual(list(body["paths"]["/token"]), ["post"])
                post = body["paths"]["/token"]["post"]
                self.assertEqual(post["security"], [{"TokenAuthorizer": []}])
                # The integration and the permission still wire the function.
                integration = post["x-amazon-apigateway-integration"]
                self.assertEqual(integration["type"], "aws_proxy")
                self.assertEqual(integration["payloadFormatVersion"], "2.0")
                self.assertIn("${TokenFunctionAliaslive}", json.dumps(integration["uri"]))
                (perm,) = s.of_type("AWS::Lambda::Permission").values()
                self.assertEqual(perm["Properties"]["FunctionName"], {"Ref": "TokenFunctionAliaslive"})
                self.assertTrue(perm["Properties"]["SourceArn"].endswith("/POST/token"))

    def test_several_audiences(self):
        s = stack(JwtIssuer="https://example.us.auth0.com/", JwtAudience="https://api.example.com,abc123")
        config = self.authorizer(s)["TokenAuthorizer"]["x-amazon-apigateway-authorizer"]["jwtConfiguration"]
        self.assertEqual(config, {"issuer": "https://example.us.auth0.com/", "audience": ["https://api.example.com", "abc123"]})

    def test_one_parameter_alone_is_refused(self):
        self.assertEqual(rules_broken(stack()), [])
        self.assertEqual(rules_broken(stack(**JWT)), [])
        self.assertEqual(rules_broken(stack(AvatarClaim="custom:avatars", **JWT)), [])
        for params in (dict(JwtIssuer=ISSUER), dict(JwtAudience=AUDIENCE)):
            with self.subTest(params):
                s = stack(**params)
                self.assertFalse(s.conditions["HasJwt"])
                self.assertEqual(rules_broken(s), ["JwtIssuerAndAudienceTogether"])
        self.assertEqual(rules_broken(stack(AvatarClaim="avatars")), ["AvatarClaimNeedsSignedInMode"])

    def test_cors_allows_the_authorization_header(self):
        plain = stack().api_body()["x-amazon-apigateway-cors"]["allowHeaders"]
        signed = stack(**JWT).api_body()["x-amazon-apigateway-cors"]["allowHeaders"]
        self.assertEqual(plain, ["content-type"])
        self.assertEqual(signed, ["content-type", "authorization"])

    def test_no_route_or_authorizer_resources_beside_the_definition(self):
        # API Gateway re-imports the OpenAPI definition on stack updates and
        # drops routes and authorizers it does not list: everything is in it.
        for params in (dict(), JWT):
            with self.subTest(params):
                s = stack(**params)
                for t in ("AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Integration", "AWS::ApiGatewayV2::Authorizer"):
                    self.assertEqual(s.of_type(t), {}, t)

    def test_avatar_claim_and_lifetime_reach_the_function(self):
        env = stack(AvatarClaim="custom:avatars", MaxTokenLifetime=900, **JWT).function()["Environment"]["Variables"]
        self.assertEqual(env["AVATAR_CLAIM"], "custom:avatars")
        self.assertEqual(env["MAX_EXPIRE_AT"], "900")

    def test_lifetime_parameter_bounds(self):
        spec = load_sam()["Parameters"]["MaxTokenLifetime"]
        self.assertEqual((spec["Type"], spec["Default"], spec["MinValue"], spec["MaxValue"]), ("Number", 600, 60, 3600))

    def test_parameter_patterns(self):
        params = load_sam()["Parameters"]
        cases = {
            "JwtIssuer": (
                ["", ISSUER, "https://example.us.auth0.com/", "https://securetoken.google.com/my-project", "https://clerk.example.com"],
                ["http://example.com", "example.com", "https://a.com, https://b.com", " https://a.com"],
            ),
            "JwtAudience": (
                ["", AUDIENCE, "my-project", "https://api.example.com,abc"],
                ["a, b", "a,", ",a", "a b"],
            ),
            "AvatarClaim": (
                ["", "avatars", "custom:avatars", "https://example.com/avatars"],
                ["two words", "a,b", '"avatars"', "x" * 257],
            ),
        }
        for name, (good, bad) in cases.items():
            self.assertEqual(params[name]["Default"], "")
            pattern = params[name]["AllowedPattern"]
            for value in good:
                with self.subTest(name=name, value=value):
                    self.assertIsNotNone(re.fullmatch(pattern, value))
            for value in bad:
                with self.subTest(name=name, value=value):
                    self.assertIsNone(re.fullmatch(pattern, value))


class Outputs(unittest.TestCase):
    def test_outputs(self):
        s = stack()
        self.assertEqual(set(s.outputs), {"TokenEndpoint", "SecretArn", "FunctionName"})
        self.assertEqual(s.outputs["TokenEndpoint"], f"https://${{TokenApi}}.execute-api.{REGION}.amazonaws.com/token")
        self.assertEqual(s.outputs["FunctionName"], {"Ref": "TokenFunction"})


class ScriptsStandIn(unittest.TestCase):
    """scripts/testdata/stack.json stands in for this stack in moto: it must keep up."""

    def test_same_outputs_and_the_parameters_the_scripts_read(self):
        with open(os.path.join(ROOT, "dev", "scripttest", "testdata", "stack.json"), encoding="utf-8") as f:
            standin = json.load(f)
        sam = load_sam()
        always = {name for name, out in sam["Outputs"].items() if "Condition" not in out}
        self.assertEqual({n for n, out in standin["Outputs"].items() if "Condition" not in out}, always)
        # The conditional outputs the scripts read, on the condition of the same name.
        for name, out in standin["Outputs"].items():
            if "Condition" in out:
                self.assertEqual(out["Condition"], sam["Outputs"][name]["Condition"], name)
                self.assertEqual(standin["Conditions"][out["Condition"]], sam["Conditions"][out["Condition"]], name)
        for name in ["AllowedOrigins", "ReservedConcurrency", "ProvisionedConcurrency", "SessionLedger", "WebhookHeaderName"]:
            self.assertIn(name, sam["Parameters"])
            self.assertIn(name, standin["Parameters"])


class LocalEnv(unittest.TestCase):
    def test_env_vars_file_sets_every_variable_of_the_function(self):
        with open(os.path.join(ROOT, "events", "env.json"), encoding="utf-8") as f:
            env = json.load(f)
        self.assertEqual(list(env), ["TokenFunction"])  # SAM's --env-vars format, by logical ID
        declared = set(load_sam()["Resources"]["TokenFunction"]["Properties"]["Environment"]["Variables"])
        self.assertEqual(declared, ENV_VARS | LIMITS_VARS | SESSION_VARS)
        self.assertLessEqual(declared, set(env["TokenFunction"]))
        # sam local invoke applies only the variables the template declares
        # (aws-sam-cli: samcli/local/lambdafn/env_vars.py, resolve): any other
        # key here would be silently dropped.
        self.assertLessEqual(set(env["TokenFunction"]), declared)


class Parameters(unittest.TestCase):
    """Every parameter explains itself, and its pattern accepts what the function accepts."""

    def setUp(self):
        self.params = load_sam()["Parameters"]

    def test_descriptions(self):
        for name, spec in self.params.items():
            with self.subTest(name):
                self.assertGreater(len(spec.get("Description", "")), 20)
                if "AllowedPattern" in spec:
                    self.assertIn("ConstraintDescription", spec)

    def test_patterns(self):
        cases = {
            "AllowedAvatarIds": (
                [AVATAR, f"{AVATAR},123", "*"],
                ["", "abc", f"{AVATAR}, 123", "1" * 33, f"{AVATAR},"],
            ),
            "AllowedOrigins": (
                ["", "*", "http://localhost:8000", ORIGINS, "https://a.example.com:8443"],
                ["example.com", "https://example.com/", "https://a.com, https://b.com", "https://a.com/path"],
            ),
            "ExistingSecretArn": (
                ["", SECRET_ARN],
                ["trulience/api-key", f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:*"],
            ),
            "KmsKeyArn": (
                ["", KMS_ARN, f"arn:aws:kms:{REGION}:{ACCOUNT}:key/mrk-1234abcd12ab34cd56ef1234567890ab"],
                ["alias/aws/secretsmanager", f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/mine", "*"],
            ),
            "TrulienceApiUrl": (
                ["https://trulience.com", "https://api.example.test/v2"],
                ["http://trulience.com", "trulience.com", ""],
            ),
            "TurnstileHostnames": (
                ["", "example.com", "www.example.com,example.com", "localhost"],
                ["https://example.com", "example.com:443", "a.com, b.com", "*.example.com", "Example.com"],
            ),
            "TurnstileAction": (
                ["", "login", "get-token", "a_b", "x" * 32],
                ["get token", "x" * 33, "a.b"],
            ),
            "AlarmEmail": (
                ["", EMAIL, "first.last+ops@mail.example.co.uk"],
                ["ops", "ops@example", "a@b.com,c@d.com", "ops @example.com"],
            ),
            "AlarmTopicArn": (
                ["", TOPIC_ARN, "arn:aws-us-gov:sns:us-gov-west-1:123456789012:alarms"],
                ["on-call", f"arn:aws:sqs:{REGION}:{ACCOUNT}:q", f"arn:aws:sns:{REGION}:{ACCOUNT}:*"],
            ),
            "ReservedConcurrency": (["", "0", "5", "1000"], ["-1", "five", "1.5", " 5"]),
            "DailyTokenAlarm": (["", "1", "5000"], ["-1", "1e3", "5 000"]),
            "MetricsNamespace": (["TrulienceToken", "Shop/Avatar", "My Site"], ["", "a" * 256]),
            "ClientTokenLimit": (
                ["", "5/10m", "20/1h", "100/24h", "3/30s", "1/1440m", "9/45m"],
                ["5/7m", "5/25h", "5/13h", "5/11m", "0/10m", "5/10", "5/0m", "5 /10m"],
            ),
        }
        for name, (good, bad) in cases.items():
            pattern = self.params[name]["AllowedPattern"]
            for value in good:
                with self.subTest(name=name, value=value):
                    self.assertIsNotNone(re.fullmatch(pattern, value))
            for value in bad:
                with self.subTest(name=name, value=value):
                    self.assertIsNone(re.fullmatch(pattern, value))

    def test_defaults_match_their_patterns(self):
        for name, spec in self.params.items():
            if "Default" in spec and "AllowedPattern" in spec:
                with self.subTest(name):
                    self.assertIsNotNone(re.fullmatch(spec["AllowedPattern"], str(spec["Default"])))

    def test_avatar_ids_must_be_given(self):
        self.assertNotIn("Default", self.params["AllowedAvatarIds"])


class Layout(unittest.TestCase):
    def test_reads_top_to_bottom(self):
        with open(TEMPLATE, encoding="utf-8") as f:
            text = f.read()
        sections = re.findall(r"^([A-Z][A-Za-z]+):", text, re.M)
        self.assertEqual(
            sections,
            [
                "AWSTemplateFormatVersion",
                "Transform",
                "Description",
                "Metadata",
                "Parameters",
                "Rules",
                "Mappings",
                "Conditions",
                "Globals",
                "Resources",
                "Outputs",
            ],
        )
        resources = list(load_sam()["Resources"])
        self.assertEqual(resources[:3], ["TokenFunction", "TokenApi", "TokenFunctionRole"])
        self.assertEqual(resources[-1], "TokenDashboard")
        self.assertIn("LimitsTable", resources)

    def test_samconfig(self):
        with open(SAMCONFIG, "rb") as f:
            cfg = tomllib.load(f)["default"]
        self.assertEqual(cfg["global"]["parameters"]["stack_name"], STACK)
        deploy = cfg["deploy"]["parameters"]
        self.assertTrue(deploy["resolve_s3"])
        self.assertEqual(deploy["capabilities"], "CAPABILITY_IAM")
        self.assertTrue(deploy["confirm_changeset"])
        self.assertTrue(cfg["validate"]["parameters"]["lint"])


class Lint(unittest.TestCase):
    def test_cfn_lint_is_clean(self):
        try:
            import cfnlint  # noqa: F401
        except ImportError:
            if os.environ.get("REQUIRE_INTEGRATION") == "1":
                raise
            self.skipTest("cfn-lint not installed (make tools)")
        # cfn-lint's own entry point (its package has no __main__ in every version).
        lint = "import sys; from cfnlint.runner import main; sys.exit(main())"
        run = subprocess.run([sys.executable, "-c", lint, TEMPLATE], cwd=ROOT, capture_output=True, text=True)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertEqual(run.stdout.strip(), "")


if __name__ == "__main__":
    unittest.main()


# The ways limits can be set: none, one, the other, both.
LIMIT_CASES = {
    "no limits": dict(),
    "per-visitor limit": dict(ClientTokenLimit="5/10m"),
    "daily limit": dict(DailyTokenLimit="1000"),
    "both limits, closed": dict(ClientTokenLimit="20/1h", DailyTokenLimit="5000", LimitsFailMode="closed"),
}


class Limits(unittest.TestCase):
    """The limits table and the role's right to it exist only when a limit is set."""

    def test_table_only_with_a_limit(self):
        for name, params in LIMIT_CASES.items():
            for secret_name, secret in SECRET_CASES.items():
                with self.subTest(name, secret=secret_name):
                    s = stack(**params, **secret)
                    on = bool(params)
                    tables = s.of_type("AWS::DynamoDB::Table")
                    self.assertEqual(set(tables), {"LimitsTable"} if on else set())
                    env = s.function()["Environment"]["Variables"]
                    self.assertEqual(set(env) & LIMITS_VARS, LIMITS_VARS - ({"CLIENT_TOKEN_LIMIT"} if "ClientTokenLimit" not in params else set()) - ({"DAILY_TOKEN_LIMIT"} if "DailyTokenLimit" not in params else set()) if on else set())
                    self.assertEqual(env["METRICS_NAMESPACE"], "TrulienceToken")
                    limits = [st for st in s.role_statements() if any(a.startswith("dynamodb:") for a in as_list(st["Action"]))]
                    if not on:
                        self.assertEqual(limits, [])
                        continue
                    self.assertEqual(env.get("CLIENT_TOKEN_LIMIT"), params.get("ClientTokenLimit"))
                    self.assertEqual(env.get("DAILY_TOKEN_LIMIT"), params.get("DailyTokenLimit"))
                    self.assertEqual(env["LIMITS_TABLE"], {"Ref": "LimitsTable"})
                    self.assertEqual(env["LIMITS_FAIL_MODE"], params.get("LimitsFailMode", "open"))
                    # The visitor hash is keyed with the API key, never with a
                    # value the stack tags its resources with.
                    self.assertNotIn("LIMITS_HASH_KEY", env)

                    # Least privilege: read and update items of this one table.
                    (st,) = limits
                    self.assertEqual(st["Effect"], "Allow")
                    self.assertEqual(sorted(as_list(st["Action"])), ["dynamodb:GetItem", "dynamodb:UpdateItem"])
                    self.assertEqual(st["Resource"], {"Fn::GetAtt": ["LimitsTable", "Arn"]})
                    self.assertNotIn("Condition", st)
                    actions = sorted(a for x in s.role_statements() for a in as_list(x["Action"]))
                    self.assertEqual([a for a in actions if a.startswith("dynamodb:")], ["dynamodb:GetItem", "dynamodb:UpdateItem"])

                    table = tables["LimitsTable"]
                    self.assertEqual(table["DeletionPolicy"], "Delete")
                    self.assertEqual(table["UpdateReplacePolicy"], "Delete")
                    p = table["Properties"]
                    self.assertEqual(p["TableName"], f"{STACK}-limits")
                    self.assertEqual(p["BillingMode"], "PAY_PER_REQUEST")
                    self.assertEqual(p["KeySchema"], [{"AttributeName": "pk", "KeyType": "HASH"}])
                    self.assertEqual(p["AttributeDefinitions"], [{"AttributeName": "pk", "AttributeType": "S"}])
                    self.assertEqual(p["TimeToLiveSpecification"], {"AttributeName": "expires_at", "Enabled": True})
                    self.assertEqual(p["PointInTimeRecoverySpecification"], {"PointInTimeRecoveryEnabled": False})
                    self.assertNotIn("StreamSpecification", p)

    def test_parameter_patterns(self):
        params = load_sam()["Parameters"]
        client = re.compile(params["ClientTokenLimit"]["AllowedPattern"])
        daily = re.compile(params["DailyTokenLimit"]["AllowedPattern"])
        namespace = re.compile(params["MetricsNamespace"]["AllowedPattern"])
        for ok in ["", "5/10m", "20/1h", "100/24h", "1/30s"]:
            self.assertTrue(client.match(ok), ok)
        for bad in ["5", "0/10m", "5/10", "5/10d", "five/10m", " 5/10m"]:
            self.assertFalse(client.match(bad), bad)
        for ok in ["", "1", "1000"]:
            self.assertTrue(daily.match(ok), ok)
        for bad in ["0", "-1", "1e3", "10 "]:
            self.assertFalse(daily.match(bad), bad)
        self.assertTrue(namespace.match("TrulienceToken"))
        self.assertFalse(namespace.match(""))
        self.assertEqual(params["MetricsNamespace"]["Default"], "TrulienceToken")
        self.assertEqual(params["LimitsFailMode"]["AllowedValues"], ["open", "closed"])
