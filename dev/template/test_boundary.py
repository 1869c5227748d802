"""The permissions boundary of the token stack's roles (TokenStackRoleBoundary in
deploy/github-oidc-role.yaml) against what template.yaml's roles use.

The deploy role may create roles and give them policies only with this
boundary (test_ci.py checks the conditions), so the boundary is the most a
role made by a workflow run can do. Two ways it can go wrong, both checked
here for every combination of the features of test_deploy_role.py:

- it denies something the stack needs: each statement of every role the
  transformed template creates (and each action of the AWS managed policies
  they carry, but those in UNUSED_MANAGED_ACTIONS) must be allowed by a
  boundary statement for the same resource;
- it lets a role do more: no IAM action, no wildcard action, Resource "*"
  only for the listed read-only or condition-bound actions.

And the stack's side: with PermissionsBoundaryArn every role carries it, and
SAM generates no role of its own (which could not); without it, none does.

Run (make test does): .venv/bin/python -m unittest discover -s dev/template -v
"""

import copy
import json
import re
import unittest

from test_ci import ROLE_TEMPLATE, as_list, load_yaml
from test_deploy_role import BOUNDARY_ARN, Role, _Conditions, all_surveys
from test_template import ACCOUNT, PSEUDO, REGION, SECRET_ARN, STACK, Stack

BOUNDARY = "TokenStackRoleBoundary"

# The roles template.yaml declares; SAM must add none.
DECLARED_ROLES = {"TokenFunctionRole", "WebhookFunctionRole", "CodeDeployRole"}

# Actions of the AWS managed policies on the stack's roles that its roles
# never use, and why. The boundary leaves them out.
UNUSED_MANAGED_ACTIONS = {
    # The deployment group has no TriggerConfigurations to notify.
    "sns:Publish": "no deployment triggers",
    # Hooks would be functions named CodeDeployHook_*, which the deploy role
    # cannot create (its functions are <stack>-*); the template has none.
    "lambda:InvokeFunction": "no lifecycle hooks",
}

# Resource "*" in the boundary: read-only, or bound by a condition.
STAR_RESOURCE_ACTIONS = {"cloudwatch:DescribeAlarms", "kms:Decrypt"}


def glob(pattern, text, case=True):
    """IAM's matching of Action and Resource: * any run of characters, ? one."""
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, text, 0 if case else re.IGNORECASE) is not None


def render(node, params, condition):
    """The role stack's template node for these parameters (Fn::Sub, Ref, Fn::If)."""
    if isinstance(node, list):
        out = [render(x, params, condition) for x in node]
        return [x for x in out if x is not None]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((key, value),) = node.items()
        if key == "Ref":
            if value == "AWS::NoValue":
                return None
            if value == BOUNDARY:
                return BOUNDARY_ARN
            return {**PSEUDO, **params}[value]
        if key == "Fn::Sub":
            return re.sub(r"\$\{([^}]+)\}", lambda m: {**PSEUDO, **params}[m.group(1)], value)
        if key == "Fn::If":
            cond, yes, no = value
            return render(yes if condition(cond) else no, params, condition)
    return {k: render(v, params, condition) for k, v in node.items()}


def boundary_statements(**role_params):
    """The boundary's statements for a role stack with these parameters."""
    template = load_yaml(ROLE_TEMPLATE)
    role = Role(template, TokenStackName=STACK, **role_params)
    doc = template["Resources"][BOUNDARY]["Properties"]["PolicyDocument"]
    return render(doc, role.params, role.condition)["Statement"]


def allowed(statements, action, resource, condition):
    """Whether a boundary statement allows the action on the resource (None: a
    managed policy's action, checked by action only). A statement with a
    Condition covers only a role statement with the same one."""
    for st in statements:
        if st["Effect"] != "Allow" or not any(glob(a, action, case=False) for a in as_list(st["Action"])):
            continue
        if resource is not None and not any(glob(r, resource) for r in as_list(st["Resource"])):
            continue
        if "Condition" in st and resource is not None and json.dumps(st["Condition"]) != condition:
            continue
        return True
    return False


def denied(statements, needs):
    """The needs the boundary denies, but the managed policies' actions it leaves out on purpose."""
    return [(role, action, resource) for role, action, resource, condition in needs
            if not (resource is None and action in UNUSED_MANAGED_ACTIONS)
            and not allowed(statements, action, resource, condition)]


class BoundaryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Every combination, as test_deploy_role.py surveys them (transformed once for both).
        cls.results = list(all_surveys())
        # And a stack reading an existing secret under a customer managed key,
        # with the role's stack told of the secret.
        params = {"AllowedAvatarIds": "1", "ExistingSecretArn": SECRET_ARN,
                  "KmsKeyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
        s = _Conditions(PermissionsBoundaryArn=BOUNDARY_ARN, **params)
        cls.existing_secret = (params, (s.types(), s.role_needs(), {n: p.get("PermissionsBoundary") for n, p in s.roles().items()}))

    def test_boundary_allows_what_every_combination_needs(self):
        statements = boundary_statements()
        gaps = {}
        for params, (_, needs, _) in self.results:
            for gap in denied(statements, needs):
                gaps.setdefault(gap, params)
        params, (_, needs, _) = self.existing_secret
        for gap in denied(boundary_statements(ExistingSecretArn=SECRET_ARN), needs):
            gaps.setdefault(gap, params)
        self.assertEqual(gaps, {}, "the boundary denies what the stack's roles use")

    def test_every_role_carries_the_boundary(self):
        seen = set()
        for params, (_, _, boundaries) in self.results + [self.existing_secret]:
            seen |= set(boundaries)
            self.assertLessEqual(set(boundaries), DECLARED_ROLES, f"a role SAM generated, for {params}")
            for name, arn in boundaries.items():
                self.assertEqual(arn, BOUNDARY_ARN, f"{name} for {params}")
        self.assertEqual(seen, DECLARED_ROLES)

    def test_no_boundary_without_the_parameter(self):
        for strategy in ["AllAtOnce", "Canary10Percent5Minutes"]:
            stack = _Conditions(AllowedAvatarIds="1", DeploymentStrategy=strategy, SessionLedger="on")
            roles = stack.roles()
            self.assertEqual(len(roles), 3 if strategy != "AllAtOnce" else 2)
            for name, props in roles.items():
                self.assertNotIn("PermissionsBoundary", props, name)

    def test_gradual_releases_use_the_stacks_codedeploy_role(self):
        stack = Stack(AllowedAvatarIds="1", DeploymentStrategy="Linear10PercentEvery1Minute",
                      PermissionsBoundaryArn=BOUNDARY_ARN)
        self.assertNotIn("CodeDeployServiceRole", stack.resources)
        (group,) = stack.of_type("AWS::CodeDeploy::DeploymentGroup").values()
        self.assertEqual(group["Properties"]["ServiceRoleArn"], {"Fn::GetAtt": ["CodeDeployRole", "Arn"]})
        role = stack.props("CodeDeployRole")
        self.assertEqual(role["AssumeRolePolicyDocument"]["Statement"],
                         [{"Effect": "Allow", "Principal": {"Service": "codedeploy.amazonaws.com"}, "Action": "sts:AssumeRole"}])
        self.assertEqual(role["ManagedPolicyArns"], ["arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda"])

    def test_boundary_allows_no_iam_and_no_wildcard_action(self):
        for role_params in [{}, {"ExistingSecretArn": SECRET_ARN}]:
            for st in boundary_statements(**role_params):
                self.assertEqual(st["Effect"], "Allow")
                self.assertNotIn("NotAction", st)
                self.assertNotIn("NotResource", st)
                for action in as_list(st["Action"]):
                    self.assertRegex(action, r"^[a-z0-9-]+:[A-Za-z]+$", f"{st['Sid']}: wildcard action {action}")
                    self.assertFalse(action.lower().startswith(("iam:", "sts:", "organizations:")), st["Sid"])
                for resource in as_list(st["Resource"]):
                    if resource == "*":
                        self.assertLessEqual(set(as_list(st["Action"])), STAR_RESOURCE_ACTIONS, st["Sid"])
                    else:
                        # AWSCodeDeployRoleForLambda's own S3 scope, read only.
                        codedeploy = resource == "arn:aws:s3:::*/CodeDeploy/*" and set(as_list(st["Action"])) <= {
                            "s3:GetObject", "s3:GetObjectVersion"}
                        self.assertTrue(codedeploy or resource == role_params.get("ExistingSecretArn")
                                        or f":{STACK}-" in resource or f"/{STACK}-" in resource,
                                        f"{st['Sid']}: {resource} is not the stack's")
            # The key is decrypted only through Secrets Manager, so only for the secrets above.
            (kms,) = [st for st in boundary_statements(**role_params) if "kms:Decrypt" in as_list(st["Action"])]
            self.assertEqual(kms["Condition"], {"StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}})

    def test_only_the_stacks_secrets(self):
        other = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:database-password-AbCdEf"
        for role_params in [{}, {"ExistingSecretArn": SECRET_ARN}]:
            st = boundary_statements(**role_params)
            self.assertFalse(allowed(st, "secretsmanager:GetSecretValue", other, "null"))
            self.assertTrue(allowed(st, "secretsmanager:GetSecretValue",
                                    f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{STACK}-api-key-AbCdEf", "null"))
            self.assertEqual(allowed(st, "secretsmanager:GetSecretValue", SECRET_ARN, "null"), bool(role_params))

    def test_removing_one_action_is_caught(self):
        stack = _Conditions(AllowedAvatarIds="1", DeploymentStrategy="Canary10Percent5Minutes", SessionLedger="on",
                            MaxLiveSessions="5", ClientTokenLimit="5/10m", PermissionsBoundaryArn=BOUNDARY_ARN)
        needs = stack.role_needs()
        for action in ["logs:PutLogEvents", "secretsmanager:GetSecretValue", "dynamodb:Query", "lambda:UpdateAlias"]:
            with self.subTest(action=action):
                broken = copy.deepcopy(boundary_statements())
                for st in broken:
                    st["Action"] = [a for a in as_list(st["Action"]) if a != action]
                self.assertTrue(any(a == action for _, a, _ in denied(broken, needs)))

    def test_print_what_the_boundary_leaves_out(self):
        # Not an assertion: the managed policy's actions the boundary denies, for whoever reads the log.
        print("\nboundary check: %d stacks; managed-policy actions left out: %s"
              % (len(self.results), ", ".join(f"{a} ({why})" for a, why in UNUSED_MANAGED_ACTIONS.items())))


if __name__ == "__main__":
    unittest.main()
