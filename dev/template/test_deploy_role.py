"""The deploy role (deploy/github-oidc-role.yaml) may do everything a deploy of
template.yaml asks of it: the permission check that does not rely on memory.

For every combination of the features that add resources, template.yaml is
transformed with the real SAM translator and its resource types collected.
Each type's CloudFormation handlers list the IAM actions they call
(testdata/handler-permissions.json, taken from the registry schemas); the SAM
CLI's own calls are in testdata/sam-cli-actions.json. The role must allow every
one of them, but those in ALLOWLIST, each with the reason it is not needed.

Run (make test does): .venv/bin/python -m unittest discover -s dev/template -v
"""

import copy
import functools
import itertools
import json
import os
import unittest
from concurrent.futures import ProcessPoolExecutor

from test_ci import ROLE_TEMPLATE, as_list, load_yaml
from test_template import ACCOUNT, REGION, ROOT, STACK, Stack, transform

DATA = os.path.join(ROOT, "dev", "template", "testdata")

# Each feature that adds resources, and its settings; every combination is checked.
FEATURES = {
    "limits": [{}, {"ClientTokenLimit": "5/10m", "DailyTokenLimit": "1000"}],
    "alarms": [{}, {"AlarmEmail": "ops@example.com"}, {"AlarmTopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:ops"}],
    "signed-in": [{}, {"JwtIssuer": "https://issuer.example.com/", "JwtAudience": "client"}],
    "reserved concurrency": [{}, {"ReservedConcurrency": "5"}],
    "custom domain": [
        {},
        {"DomainName": "token.example.com", "CertificateArn": f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/1"},
        {
            "DomainName": "token.example.com",
            "CertificateArn": f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/1",
            "HostedZoneId": "Z0123456789ABCDEFGHIJ",
            "DisableExecuteApiEndpoint": "true",
        },
    ],
    "deployment strategy": [
        {},
        {"DeploymentStrategy": "Canary10Percent5Minutes"},
        {"DeploymentStrategy": "Linear10PercentEvery1Minute"},
    ],
    "provisioned concurrency": [{}, {"ProvisionedConcurrency": "2"}],
    "session ledger": [
        {},
        {"SessionLedger": "on", "MaxLiveSessions": "20", "DailySessionMinutes": "600", "DailySessionMinutesAlarm": "900"},
    ],
}

# The role is made for a stack with a custom domain and a hosted zone, so
# its conditional statements are in; test_scoped_statements checks they
# are left out otherwise.
ROLE_PARAMS = {"DomainName": "token.example.com", "HostedZoneId": "Z0123456789ABCDEFGHIJ"}

# Actions the handlers list that a deploy of this template never needs, and why.
# Printed by the test, so a reader sees what was left out.
ALLOWLIST = {
    # Not a stack operation: CloudFormation calls list handlers to discover
    # resources (IaC generator, Cloud Control ListResources), never to deploy.
    "list handlers": "ALL_LIST",
    # VPC and file systems: the function runs outside a VPC, with no EFS or S3 Files mount.
    "VpcConfig, FileSystemConfigs": [
        "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs", "ec2:DescribeNetworkInterfaces",
        "elasticfilesystem:DescribeMountTargets", "s3files:ListMountTargets",
    ],
    # The function's variables use Lambda's own key (no KmsKeyArn on the function);
    # the table uses DynamoDB's own key; log groups have no KmsKeyId. A secret with
    # a customer KmsKeyArn needs kms:GenerateDataKey and kms:Decrypt for the
    # deploy role in that key's policy (docs/continuous-deployment.md), not here.
    "customer managed KMS keys": [
        "kms:CreateGrant", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:ListAliases",
        "kms:RevokeGrant", "logs:AssociateKmsKey", "logs:DisassociateKmsKey",
    ],
    "Lambda layers, code signing, capacity providers": [
        "lambda:GetLayerVersion", "lambda:GetCodeSigningConfig", "lambda:PutFunctionCodeSigningConfig",
        "lambda:DeleteFunctionCodeSigningConfig", "lambda:PassCapacityProvider",
    ],
    # The deploy role never reads the API key. The secret's read handler (drift
    # detection) and update handler (a change to TokenSecret's own properties,
    # which no release makes) list it; its create and delete handlers do not.
    "the secret's value": ["secretsmanager:GetSecretValue"],
    "secret replicas (no ReplicaRegions)": [
        "secretsmanager:ReplicateSecretToRegions", "secretsmanager:RemoveRegionsFromReplication",
    ],
    # Every role the stack creates keeps TokenStackRoleBoundary: the deploy
    # role is denied removing it (PutRolePermissionsBoundary is granted, for
    # that boundary only, to put it on roles made before it existed).
    "a permissions boundary is never removed": ["iam:DeleteRolePermissionsBoundary"],
    # The limits and sessions tables: no replicas, import, Kinesis stream,
    # resource policy or items written by CloudFormation.
    "DynamoDB table features the tables do not use": [
        "dynamodb:AssociateTableReplica", "dynamodb:CreateTableReplica", "dynamodb:BatchWriteItem",
        "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:Scan",
        "dynamodb:UpdateItem", "dynamodb:DescribeImport", "dynamodb:ImportTable",
        "dynamodb:EnableKinesisStreamingDestination", "dynamodb:DisableKinesisStreamingDestination",
        "dynamodb:UpdateKinesisStreamingDestination", "dynamodb:PutResourcePolicy", "dynamodb:DeleteResourcePolicy",
        "iam:CreateServiceLinkedRole", "kinesis:DescribeStream", "kinesis:PutRecords",
        "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents",
        "s3:GetObjectMetadata", "s3:ListBucket",
    ],
    # Log groups deliver nowhere but CloudWatch; "s3:REST.PUT.OBJECT" is no IAM action.
    "log delivery to Firehose or S3": ["firehose:TagDeliveryStream", "s3:REST.PUT.OBJECT"],
    # The HTTP API's definition is inline (Body), never BodyS3Location.
    "API definitions in S3": ["s3:GetObject"],
    # The alarm topic has no delivery-status logging role to read or pass.
    "SNS delivery status logging": ["iam:GetRole", "iam:PassRole"],
    # CodeDeploy for Lambda deploys no EC2 or on-premises instances.
    "CodeDeploy on instances": ["codedeploy:RegisterOnPremisesInstance"],
}

# Per type, the entries of ALLOWLIST that apply to it (an action allowed for
# one type is still required where another type needs it).
ALLOWED_FOR = {
    "AWS::Lambda::Function": ["VpcConfig, FileSystemConfigs", "customer managed KMS keys", "Lambda layers, code signing, capacity providers"],
    "AWS::SecretsManager::Secret": ["the secret's value", "secret replicas (no ReplicaRegions)"],
    "AWS::IAM::Role": ["a permissions boundary is never removed"],
    "AWS::DynamoDB::Table": ["DynamoDB table features the tables do not use", "customer managed KMS keys"],
    "AWS::Logs::LogGroup": ["log delivery to Firehose or S3", "customer managed KMS keys"],
    "AWS::ApiGatewayV2::Api": ["API definitions in S3"],
    "AWS::SNS::Topic": ["SNS delivery status logging"],
    "AWS::SNS::Subscription": ["SNS delivery status logging"],
    "AWS::CodeDeploy::DeploymentGroup": ["CodeDeploy on instances"],
}

# Route 53 record sets are legacy types whose schemas list no handler
# permissions; these are the calls a record change makes (Route 53 API
# reference: ChangeResourceRecordSets, then GetChange until INSYNC).
ROUTE53_RECORD = {"create": ["route53:ChangeResourceRecordSets", "route53:GetChange", "route53:GetHostedZone",
                             "route53:ListResourceRecordSets"]}
ROUTE53_RECORD["update"] = ROUTE53_RECORD["delete"] = ROUTE53_RECORD["read"] = ROUTE53_RECORD["create"]

# Stack operations: the handler operations a deploy can run.
STACK_OPS = ["create", "read", "update", "delete"]


def load_json(name):
    with open(os.path.join(DATA, name), encoding="utf-8") as f:
        return json.load(f)


def combinations():
    names = list(FEATURES)
    for values in itertools.product(*(FEATURES[n] for n in names)):
        params = {"AllowedAvatarIds": "1", "AllowedOrigins": "https://www.example.com"}
        for v in values:
            params.update(v)
        yield params


# The boundary the pipeline passes as PermissionsBoundaryArn: the policy the
# role's stack names GitHubDeploy-<stack>-role-boundary.
BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/GitHubDeploy-{STACK}-role-boundary"


def managed_policies():
    """The AWS managed policies a role of the stack may carry, by ARN."""
    return load_json("aws-managed-policies.json")["policies"]


class _Conditions(Stack):
    """A Stack that only transforms and evaluates conditions, and resolves
    only its roles (resolving every property of 864 stacks would take most of
    the test's time)."""

    def __init__(self, **params):  # pylint: disable=super-init-not-called
        self.cfn = transform(params)
        self.params = {n: str(params.get(n, spec.get("Default", ""))) for n, spec in self.cfn["Parameters"].items()}
        self.conditions = {}
        self.resources = {n: r for n, r in self.cfn["Resources"].items()
                          if "Condition" not in r or self._condition(r["Condition"])}

    def types(self):
        return {r["Type"] for r in self.resources.values()}

    def roles(self):
        return {n: self.resolve(r)["Properties"] for n, r in self.resources.items() if r["Type"] == "AWS::IAM::Role"}

    def arn(self, node):
        """The ARN a Ref or Fn::GetAtt ...Arn in a role's policy stands for."""
        if isinstance(node, str):
            return node
        name = node["Ref"] if "Ref" in node else node["Fn::GetAtt"][0]
        res = self.resolve(self.resources[name])
        props = res["Properties"]
        if res["Type"] == "AWS::Logs::LogGroup":
            return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{props['LogGroupName']}:*"
        if res["Type"] == "AWS::SecretsManager::Secret":
            return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{props['Name']}-AbCdEf"
        if res["Type"] == "AWS::DynamoDB::Table":
            return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{props['TableName']}"
        raise AssertionError(f"a role's policy names {name} ({res['Type']}): add its ARN here")

    def role_needs(self):
        """(role, action, resource ARN or None, condition JSON) for each Allow
        of each role's inline policies and the AWS managed policies it carries
        (those by action only: their resources are AWS's wildcards)."""
        out = []
        policies = managed_policies()
        for name, props in self.roles().items():
            for policy in props.get("Policies", []):
                for st in policy["PolicyDocument"]["Statement"]:
                    assert st["Effect"] == "Allow" and "NotAction" not in st and "NotResource" not in st, st
                    for action in as_list(st["Action"]):
                        for resource in as_list(st["Resource"]):
                            out.append((name, action, self.arn(resource), json.dumps(st.get("Condition"))))
            for arn in props.get("ManagedPolicyArns", []):
                for st in policies[self.resolve(arn)]["document"]["Statement"]:
                    for action in as_list(st["Action"]):
                        out.append((name, action, None, None))
        return out


def survey(params):
    """One combination, deployed as the pipeline does (with the boundary):
    its resource types, what its roles' policies allow, and their boundaries."""
    s = _Conditions(PermissionsBoundaryArn=BOUNDARY_ARN, **params)
    boundaries = {n: p.get("PermissionsBoundary") for n, p in s.roles().items()}
    return s.types(), s.role_needs(), boundaries


@functools.lru_cache(maxsize=None)
def all_surveys():
    """survey() of every combination of the features (test_boundary.py reads it too)."""
    combos = list(combinations())
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return list(zip(combos, pool.map(survey, combos, chunksize=8)))


def all_types():
    """Every resource type some combination of the features creates."""
    surveys = all_surveys()
    found = set()
    for _, (types, _, _) in surveys:
        found |= types
    return frozenset(found), len(surveys)


def handler_actions(types):
    """Action -> the (type, operation)s that call it, minus ALLOWLIST."""
    data = load_json("handler-permissions.json")["types"]
    need = {}
    for t in sorted(types):
        ops = ROUTE53_RECORD if t.startswith("AWS::Route53::") else data[t]
        allowed = set()
        for entry in ALLOWED_FOR.get(t, []):
            allowed |= {a.lower() for a in ALLOWLIST[entry]}
        for op in STACK_OPS:
            for action in ops.get(op, []):
                if action.lower() not in allowed:
                    need.setdefault(action.lower(), set()).add(f"{t} {op}")
    return need


def sam_cli_actions():
    """Action -> where in the SAM CLI it is called, for the flags deploy.yml passes."""
    data = load_json("sam-cli-actions.json")
    need = {}
    for entry in data["actions"]:
        if "only_if" in entry:
            continue
        need.setdefault(entry["action"].lower(), set()).update(entry["where"])
    # The artifacts stack aws-sam-cli-managed-default: created once per account and
    # region (by the first sam deploy --resolve-s3), then only read.
    managed = data["managed_stack"]["handler_permissions"]["types"]
    bucket_features = {a.lower() for a in MANAGED_BUCKET_UNUSED}
    for t, ops in managed.items():
        for op in ["create", "read"]:
            for action in ops.get(op, []):
                if action.lower() not in bucket_features:
                    need.setdefault(action.lower(), set()).add(f"managed stack {t} {op}")
    return need


# The managed bucket's template sets encryption, versioning, a public access
# block, tags and a bucket policy; these create-handler calls serve features it
# does not set.
MANAGED_BUCKET_UNUSED = [
    "iam:PassRole", "s3:CreateBucketMetadataTableConfiguration", "s3:DeleteObject", "s3:PutAccelerateConfiguration",
    "s3:PutAnalyticsConfiguration", "s3:PutBucketCORS", "s3:PutBucketLogging", "s3:PutBucketNotification",
    "s3:PutBucketObjectLockConfiguration", "s3:PutBucketReplication", "s3:PutBucketWebsite",
    "s3:PutIntelligentTieringConfiguration", "s3:PutInventoryConfiguration", "s3:PutLifecycleConfiguration",
    "s3:PutMetricsConfiguration", "s3:PutObjectAcl", "s3:PutObjectLockConfiguration",
    "s3:PutReplicationConfiguration", "s3tables:CreateNamespace", "s3tables:CreateTable", "s3tables:GetTable",
    "s3tables:GetTableMetadataLocation", "s3tables:PutTablePolicy", "s3tables:UpdateTableMetadataLocation",
]


class Role:
    """The deploy role's Allow statements for one set of its parameter values."""

    def __init__(self, template, **params):
        self.template = template
        self.params = {n: str(params.get(n, spec.get("Default", ""))) for n, spec in template["Parameters"].items()}
        self.conditions = {}

    def condition(self, name):
        if name not in self.conditions:
            self.conditions[name] = self._truth(self.template["Conditions"][name])
        return self.conditions[name]

    def _truth(self, node):
        ((fn, args),) = node.items()
        if fn == "Fn::Equals":
            a, b = (self.params[x["Ref"]] if isinstance(x, dict) else x for x in args)
            return a == b
        if fn == "Fn::Not":
            return not self._truth(args[0])
        if fn == "Fn::And":
            return all(self._truth(x) for x in args)
        if fn == "Fn::Or":
            return any(self._truth(x) for x in args)
        if fn == "Condition":
            return self.condition(args)
        raise AssertionError(f"unsupported condition function {fn}")

    def statements(self):
        (role,) = [r for r in self.template["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
        for policy in role["Properties"]["Policies"]:
            for st in policy["PolicyDocument"]["Statement"]:
                if isinstance(st, dict) and "Fn::If" in st:
                    cond, yes, no = st["Fn::If"]
                    st = yes if self.condition(cond) else no
                    if st == {"Ref": "AWS::NoValue"}:
                        continue
                yield st

    def allowed(self):
        actions = {}
        for st in self.statements():
            if st["Effect"] == "Allow":
                for a in as_list(st["Action"]):
                    actions.setdefault(a.lower(), []).append(st.get("Sid"))
        return actions


def missing(role_template, need, **params):
    allowed = Role(role_template, **params).allowed()
    return {a: sorted(where) for a, where in need.items() if a not in allowed}


class DeployRolePermissions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.role_template = load_yaml(ROLE_TEMPLATE)
        cls.types, cls.combos = all_types()

    def test_every_combination_was_transformed(self):
        sizes = [len(v) for v in FEATURES.values()]
        self.assertEqual(self.combos, functools.reduce(lambda a, b: a * b, sizes))
        # The types the features add are all found: the check covers them.
        for t in ["AWS::CodeDeploy::DeploymentGroup", "AWS::Route53::RecordSet", "AWS::ApiGatewayV2::DomainName",
                  "AWS::Lambda::Alias", "AWS::DynamoDB::Table", "AWS::SNS::Subscription"]:
            self.assertIn(t, self.types)

    def test_every_type_has_handler_data(self):
        data = load_json("handler-permissions.json")
        for key in ["_source", "_commit", "_date"]:
            self.assertTrue(data[key], key)
        documented = set(data["types"]) | {e["type"] for e in data["_no_handler_permissions"]}
        self.assertLessEqual(set(self.types), documented, "a resource type without its handler permissions")

    def test_role_allows_what_the_handlers_call(self):
        gaps = missing(self.role_template, handler_actions(self.types), **ROLE_PARAMS)
        self.assertEqual(gaps, {}, "the deploy role lacks actions that resource handlers call")

    def test_role_allows_what_the_sam_cli_calls(self):
        gaps = missing(self.role_template, sam_cli_actions(), **ROLE_PARAMS)
        self.assertEqual(gaps, {}, "the deploy role lacks actions that sam deploy calls")

    def test_removing_one_action_is_caught(self):
        need = handler_actions(self.types)
        for action in ["apigateway:TagResource", "cloudwatch:TagResource", "lambda:PublishVersion",
                       "codedeploy:CreateDeployment"]:
            with self.subTest(action=action):
                broken = copy.deepcopy(self.role_template)
                (role,) = [r for r in broken["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
                for policy in role["Properties"]["Policies"]:
                    for st in policy["PolicyDocument"]["Statement"]:
                        st = st["Fn::If"][1] if "Fn::If" in st else st
                        st["Action"] = [a for a in as_list(st["Action"]) if a.lower() != action.lower()]
                self.assertIn(action.lower(), missing(broken, need, **ROLE_PARAMS))

    def test_scoped_statements_only_for_their_stack(self):
        # Without a domain or hosted zone, the role gets no DNS or domain-name rights.
        allowed = Role(self.role_template).allowed()
        self.assertNotIn("route53:changeresourcerecordsets", allowed)
        with_zone = Role(self.role_template, **ROLE_PARAMS).allowed()
        self.assertIn("route53:changeresourcerecordsets", with_zone)

    def test_print_the_allowlist(self):
        # Not an assertion: what the check leaves out, for whoever reads the log.
        lines = [f"  {reason}: {'every list handler' if acts == 'ALL_LIST' else ', '.join(acts)}"
                 for reason, acts in ALLOWLIST.items()]
        print("\ndeploy role check: %d combinations, %d resource types; not required:\n%s"
              % (self.combos, len(self.types), "\n".join(lines)))


if __name__ == "__main__":
    unittest.main()
