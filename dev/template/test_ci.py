"""Checks the GitHub Actions workflows and the deploy role's template.

Workflows (.github/workflows/*.yml): every `make` target and repository path
they name exists, every action is pinned to a full commit SHA with its version
in a comment, the deploy job gets an OIDC token only in the production
environment, and no stack parameter comes from a secret.

Deploy role (deploy/github-oidc-role.yaml): no wildcard actions, every
resource is scoped to the token stack's name (or is one of a short list of
shared SAM/API Gateway resources), Resource "*" only for actions that have no
resource-level permissions, no way to read the API key, and a trust policy
limited to one repository's environment with the sts.amazonaws.com audience.
Roles are created or given policies only with the permissions boundary the
role's stack defines, which the role can neither remove nor edit
(test_boundary.py checks what the boundary allows).

Run: python3 -m unittest discover -s dev/template -p 'test_ci.py' -v
Needs only PyYAML (which cfn-lint installs).
"""

import glob
import itertools
import os
import re
import unittest

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
WORKFLOWS = sorted(glob.glob(os.path.join(ROOT, ".github", "workflows", "*.yml")))
DEPLOY_WORKFLOW = os.path.join(ROOT, ".github", "workflows", "deploy.yml")
# The reusable workflow deploy.yml calls once per environment.
DEPLOY_STACK_WORKFLOW = os.path.join(ROOT, ".github", "workflows", "deploy-stack.yml")
ROLE_TEMPLATE = os.path.join(ROOT, "deploy", "github-oidc-role.yaml")
MAKEFILE = os.path.join(ROOT, "Makefile")

SHA_PIN = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[A-Za-z0-9_./-]+)?@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"#\s*v\d+(\.\d+){0,2}\s*$")

# Repository paths a workflow may name: under these folders, or these files.
PATH_DIRS = ("scripts", "deploy", "docs", "dev", "events", "functions", "internal", ".ci", ".github")
ROOT_FILES = ("go.mod", "go.sum", "template.yaml", "samconfig.toml", "Makefile")
PATH_RE = re.compile(
    r"(?<![\w/.$-])((?:%s)/[A-Za-z0-9_./-]*[A-Za-z0-9_-]|(?:%s))(?![\w/.-])"
    % ("|".join(re.escape(d) for d in PATH_DIRS), "|".join(re.escape(f) for f in ROOT_FILES))
)

STACK = "${TokenStackName}"
# Resources the deploy role may name without the token stack's name, each
# because it is shared or its name cannot carry the stack's:
SHARED_RESOURCES = {
    # the AWS-owned SAM transform a SAM change set needs
    "arn:${AWS::Partition}:cloudformation:${AWS::Region}:aws:transform/Serverless-2016-10-31",
    # the SAM CLI's managed stack and artifacts bucket (one per account and region)
    "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/aws-sam-cli-managed-default/*",
    "arn:${AWS::Partition}:s3:::aws-sam-cli-managed-default-samclisourcebucket-*",
    # HTTP APIs: their IDs are random
    "arn:${AWS::Partition}:apigateway:${AWS::Region}::/apis",
    "arn:${AWS::Partition}:apigateway:${AWS::Region}::/apis/*",
    "arn:${AWS::Partition}:apigateway:${AWS::Region}::/tags/*",
    # AWS's predefined CodeDeploy configurations for Lambda (read only)
    "arn:${AWS::Partition}:codedeploy:${AWS::Region}:${AWS::AccountId}:deploymentconfig:CodeDeployDefault.Lambda*",
    # the custom domain and its hosted zone: role parameters naming the stack's own
    "arn:${AWS::Partition}:apigateway:${AWS::Region}::/domainnames",
    "arn:${AWS::Partition}:apigateway:${AWS::Region}::/domainnames/${DomainName}",
    "arn:${AWS::Partition}:apigateway:${AWS::Region}::/domainnames/${DomainName}/*",
    "arn:${AWS::Partition}:route53:::hostedzone/${HostedZoneId}",
    # Route 53 change IDs are random; GetChange only reads a change's status
    "arn:${AWS::Partition}:route53:::change/*",
    # API Gateway's service-linked role, made on an account's first custom domain
    "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/ops.apigateway.amazonaws.com/AWSServiceRoleForAPIGateway",
}
# The permissions boundary of the token stack's roles (a policy of the role's
# own stack, named after the token stack).
BOUNDARY = "TokenStackRoleBoundary"
BOUNDARY_REF = {"Ref": BOUNDARY}
# Creating a role or adding to its permissions: allowed only with the boundary.
GRANTING_IAM_ACTIONS = {"iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary"}
# What would change the boundary policy itself.
POLICY_EDITING_ACTIONS = {"iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
                          "iam:SetDefaultPolicyVersion"}
# The only actions allowed on Resource "*": none has resource-level permissions.
STAR_RESOURCE_ACTIONS = {
    "secretsmanager:GetRandomPassword",
    "cloudformation:ValidateTemplate",
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}
# Actions that would let the deploy role read the Trulience API key.
SECRET_READING_ACTIONS = {"secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue", "kms:Decrypt"}


class _CfnLoader(yaml.SafeLoader):
    """A SafeLoader that reads CloudFormation's short tags (!Ref, !Sub, ...)
    as their long forms ({"Ref": ...}, {"Fn::Sub": ...})."""


def _intrinsic(loader, suffix, node):
    name = "Ref" if suffix == "Ref" else "Fn::" + suffix
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=_CfnLoader)  # noqa: S506 (a SafeLoader subclass)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def triggers(workflow):
    # YAML 1.1 reads the key `on` as the boolean True.
    return workflow.get("on", workflow.get(True))


def run_scripts(workflow):
    """Every `run:` script of every job, with its job and step name."""
    for job_id, job in workflow["jobs"].items():
        for i, step in enumerate(job.get("steps", [])):
            if "run" in step:
                yield f"{job_id}/{step.get('name', i)}", step["run"]


def makefile_targets():
    targets = set()
    for line in read(MAKEFILE).splitlines():
        m = re.match(r"^([A-Za-z0-9_.%-]+(?:[ \t]+[A-Za-z0-9_.%-]+)*)[ \t]*::?(?!=)", line)
        if m:
            targets.update(m.group(1).split())
    return targets


def make_invocations(script):
    """The targets of each `make ...` command in a shell script."""
    for m in re.finditer(r"(?:^|[;&|(]\s*|\s)make((?:[ \t]+[^\s;&|)]+)*)", script, re.M):
        for word in m.group(1).split():
            if word.startswith("-") or "=" in word:
                continue
            yield word


def sub_string(value):
    """The text of a Fn::Sub (or a plain string), else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return sub if isinstance(sub, str) else sub[0]
    return None


def as_list(value):
    return value if isinstance(value, list) else [value]


class WorkflowTest(unittest.TestCase):
    def setUp(self):
        self.assertTrue(WORKFLOWS, "no workflow in .github/workflows")
        self.workflows = {os.path.relpath(p, ROOT): load_yaml(p) for p in WORKFLOWS}

    def test_make_targets_exist(self):
        targets = makefile_targets()
        used = 0
        for path, workflow in self.workflows.items():
            for where, script in run_scripts(workflow):
                for target in make_invocations(script):
                    used += 1
                    self.assertIn(target, targets, f"{path} {where} runs `make {target}`, which the Makefile lacks")
        self.assertGreater(used, 0, "no workflow runs make: is the parser still right?")

    def test_repository_paths_exist(self):
        for path in self.workflows:
            text = read(os.path.join(ROOT, path))
            found = {m.group(1) for m in PATH_RE.finditer(text)}
            for job in self.workflows[path]["jobs"].values():
                if str(job.get("uses", "")).startswith("./"):
                    found.add(job["uses"][2:])
            self.assertTrue(found, f"{path} names no repository path: is the pattern still right?")
            for ref in sorted(found):
                self.assertTrue(os.path.exists(os.path.join(ROOT, ref)), f"{path} names {ref}, which does not exist")

    def test_script_options_exist(self):
        """Every --option a workflow passes to a scripts/*.sh is one the script reads."""
        for path, workflow in self.workflows.items():
            for where, script in run_scripts(workflow):
                for m in re.finditer(r"(scripts/[A-Za-z0-9_-]+\.sh)((?:[ \t]+(?:\\\n)?[^\n;&|]*)?)", script):
                    source = read(os.path.join(ROOT, m.group(1)))
                    if re.search(r"(?m)^\s*(stack_options|find_function) ", source):
                        # The options it shares with other scripts are parsed in lib.sh.
                        source += read(os.path.join(ROOT, "scripts", "lib.sh"))
                    for option in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", m.group(2)):
                        self.assertRegex(
                            source, rf"(?m)^\s*(?:[-\w]+\s*\|\s*)*{re.escape(option)}(?:\s*\|[^)]*)?\)",
                            f"{path} {where} passes {option} to {m.group(1)}, which has no such option")

    def test_actions_pinned_to_commit_with_version(self):
        pins = {}
        for path in self.workflows:
            lines = read(os.path.join(ROOT, path)).splitlines()
            uses_lines = [ln for ln in lines if re.match(r"^\s*(-\s+)?uses:", ln)]
            parsed = [s["uses"] for j in self.workflows[path]["jobs"].values() for s in j.get("steps", []) if "uses" in s]
            parsed += [j["uses"] for j in self.workflows[path]["jobs"].values() if "uses" in j]
            self.assertEqual(len(uses_lines), len(parsed), f"{path}: a `uses:` is written in a form this test does not read")
            for line in uses_lines:
                value, _, comment = line.split("uses:", 1)[1].partition("#")
                ref = value.strip().strip("'\"")
                if ref.startswith("./"):
                    continue  # a workflow or action of this repository
                self.assertRegex(ref, SHA_PIN, f"{path}: `{ref}` is not pinned to a full commit SHA")
                self.assertRegex("#" + comment, VERSION_COMMENT, f"{path}: `{ref}` has no `# vX.Y.Z` comment")
                action, sha = ref.split("@")
                pins.setdefault(action, set()).add((sha, comment.strip()))
        for action, versions in pins.items():
            self.assertEqual(len(versions), 1, f"{action} is pinned to different commits or versions: {versions}")

    def test_deploy_job_permissions_and_environment(self):
        deploy = self.workflows[os.path.relpath(DEPLOY_WORKFLOW, ROOT)]
        self.assertEqual(deploy.get("permissions"), {"contents": "read"})
        self.assertIn("workflow_dispatch", triggers(deploy))
        self.assertEqual(triggers(deploy)["push"]["branches"], ["main"])
        # Staging first, production only after it (or without it when it is turned off).
        jobs = deploy["jobs"]
        self.assertEqual(jobs["staging"]["with"]["environment"], "staging")
        self.assertEqual(jobs["staging"]["with"]["config-env"], "staging")
        self.assertEqual(jobs["production"]["with"]["environment"], "production")
        self.assertEqual(jobs["production"]["with"]["config-env"], "prod")
        self.assertIn("staging", jobs["production"]["needs"])
        self.assertIn("needs.checks.result == 'success'", jobs["production"]["if"])
        for job_id, job in jobs.items():
            perms = job.get("permissions")
            self.assertIsInstance(perms, dict, f"job {job_id} inherits its permissions")
            if job.get("uses") == "./.github/workflows/deploy-stack.yml":
                self.assertEqual(perms, {"id-token": "write", "contents": "read"})
            else:
                self.assertNotEqual(perms.get("id-token"), "write", f"job {job_id} gets an OIDC token it does not use")
        # The one job that assumes an AWS role runs in the environment it was given,
        # so its OIDC subject names that environment.
        stack_wf = self.workflows[os.path.relpath(DEPLOY_STACK_WORKFLOW, ROOT)]
        self.assertEqual(list(triggers(stack_wf)), ["workflow_call"])
        aws_jobs = []
        for job_id, job in stack_wf["jobs"].items():
            if any("configure-aws-credentials" in s.get("uses", "") for s in job.get("steps", [])):
                aws_jobs.append(job_id)
                self.assertEqual(job.get("environment"), "${{ inputs.environment }}")
                with_ = next(s["with"] for s in job["steps"] if "configure-aws-credentials" in s.get("uses", ""))
                self.assertEqual(with_.get("role-to-assume"), "${{ vars.AWS_DEPLOY_ROLE_ARN }}")
                self.assertEqual(with_.get("aws-region"), "${{ vars.AWS_REGION }}")
        self.assertEqual(len(aws_jobs), 1, "exactly one deploy job should assume the AWS role")

    def test_deploy_uses_no_secrets(self):
        for path in (DEPLOY_WORKFLOW, DEPLOY_STACK_WORKFLOW):
            text = read(path)
            self.assertNotRegex(text, r"\bsecrets\.", f"{path} must take stack parameters from vars., not secrets.")
            self.assertNotRegex(text, r"(?m)^\s*secrets:\s*inherit", f"{path} must not pass its secrets on")
        text = read(DEPLOY_STACK_WORKFLOW)
        self.assertIn("${{ vars.ALLOWED_AVATAR_IDS }}", text)
        self.assertIn("${{ vars.ALLOWED_ORIGINS }}", text)

    def test_deploy_passes_the_permissions_boundary(self):
        # The deploy role creates roles only with its boundary: the stack must get it, and a
        # missing variable must stop the job before sam deploy.
        workflow = load_yaml(DEPLOY_STACK_WORKFLOW)
        job = workflow["jobs"]["deploy"]
        self.assertEqual(job["env"]["PERMISSIONS_BOUNDARY_ARN"], "${{ vars.PERMISSIONS_BOUNDARY_ARN }}")
        check = job["steps"][0]["run"]
        self.assertIn("missing+=(PERMISSIONS_BOUNDARY_ARN)", check)
        deploy = next(s["run"] for s in job["steps"] if "sam deploy" in s.get("run", ""))
        self.assertIn('"PermissionsBoundaryArn=$PERMISSIONS_BOUNDARY_ARN"', deploy)
        self.assertIn("PermissionsBoundaryArn", read(MAKEFILE))

    def test_deploy_writes_only_the_stack_prefix(self):
        # The role may write only <stack>/* in the SAM CLI bucket.
        scripts = "\n".join(s for _, s in run_scripts(load_yaml(DEPLOY_STACK_WORKFLOW)))
        self.assertRegex(scripts, r"sam deploy[^\n]*(\\\n[^\n]*)*--s3-prefix \"\$STACK_NAME\"")
        self.assertRegex(scripts, r"--no-confirm-changeset")
        self.assertRegex(scripts, r"--no-fail-on-empty-changeset")

    def test_deploy_clears_a_failed_first_deploy_first(self):
        # prepare-stack.sh runs before sam deploy, in the same job.
        steps = [s.get("run", "") for s in load_yaml(DEPLOY_STACK_WORKFLOW)["jobs"]["deploy"]["steps"]]
        prepare = next(i for i, r in enumerate(steps) if "scripts/prepare-stack.sh" in r)
        deploy = next(i for i, r in enumerate(steps) if "sam deploy" in r)
        self.assertLess(prepare, deploy)

    def test_environments_have_distinct_stacks(self):
        import tomllib

        with open(os.path.join(ROOT, "samconfig.toml"), "rb") as f:
            cfg = tomllib.load(f)
        names = {env: cfg[env]["global"]["parameters"]["stack_name"] for env in ("staging", "prod")}
        self.assertNotEqual(names["staging"], names["prod"])
        # A role may manage <stack>-*: neither stack's resources may match the other's prefix.
        for a, b in itertools.permutations(names.values(), 2):
            self.assertFalse(b.startswith(a + "-"), f"{b} falls under {a}-*")
        for env, name in names.items():
            self.assertEqual(cfg[env]["deploy"]["parameters"]["s3_prefix"], name)
            self.assertFalse(cfg[env]["deploy"]["parameters"]["confirm_changeset"])


class DeployRoleTest(unittest.TestCase):
    def setUp(self):
        self.template = load_yaml(ROLE_TEMPLATE)
        self.resources = self.template["Resources"]
        roles = [r for r in self.resources.values() if r["Type"] == "AWS::IAM::Role"]
        self.assertEqual(len(roles), 1)
        self.role = roles[0]["Properties"]

    def statements(self):
        """The deploy role's own statements (not the boundary's, which it only sets on other roles)."""
        docs = [p["PolicyDocument"] for p in self.role.get("Policies", [])]
        docs += [r["Properties"]["PolicyDocument"] for name, r in self.resources.items()
                 if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy")
                 and name != BOUNDARY]
        self.assertNotIn(BOUNDARY_REF, self.role.get("ManagedPolicyArns", []), "the boundary is not the role's policy")
        self.assertTrue(docs, "the role has no permissions policy")
        for doc in docs:
            for st in doc["Statement"]:
                # A statement for an optional feature: Fn::If [cond, statement, AWS::NoValue].
                if "Fn::If" in st:
                    _, st, no = st["Fn::If"]
                    self.assertEqual(no, {"Ref": "AWS::NoValue"})
                yield st

    def test_no_wildcard_actions(self):
        for st in self.statements():
            self.assertNotIn("NotAction", st, st.get("Sid"))
            self.assertNotIn("NotResource", st, st.get("Sid"))
            for action in as_list(st["Action"]):
                self.assertIsInstance(action, str, st.get("Sid"))
                self.assertNotIn("*", action, f"{st.get('Sid')}: wildcard action {action}")
                self.assertRegex(action, r"^[a-z0-9-]+:[A-Za-z0-9]+$", st.get("Sid"))

    def test_resources_scoped_to_the_stack(self):
        for st in self.statements():
            for resource in as_list(st["Resource"]):
                if resource == "*" or resource == BOUNDARY_REF:
                    continue
                text = sub_string(resource)
                self.assertIsNotNone(text, f"{st.get('Sid')}: resource {resource} is not a string or !Sub")
                self.assertTrue(STACK in text or text in SHARED_RESOURCES,
                                f"{st.get('Sid')}: {text} is not scoped to {STACK}")

    def test_star_resource_only_for_unscopable_actions(self):
        for st in self.statements():
            if st["Effect"] == "Allow" and "*" in as_list(st["Resource"]):
                extra = set(as_list(st["Action"])) - STAR_RESOURCE_ACTIONS
                self.assertFalse(extra, f"{st.get('Sid')}: Resource \"*\" for {sorted(extra)}")

    def test_cannot_read_the_api_key(self):
        for st in self.statements():
            if st["Effect"] == "Allow":
                self.assertFalse(set(as_list(st["Action"])) & SECRET_READING_ACTIONS, st.get("Sid"))

    def test_pass_role_only_to_lambda_and_codedeploy(self):
        for st in self.statements():
            if "iam:PassRole" in as_list(st["Action"]):
                self.assertEqual(
                    as_list(st["Condition"]["StringEquals"]["iam:PassedToService"]),
                    ["lambda.amazonaws.com", "codedeploy.amazonaws.com"],
                )

    def test_role_cannot_edit_itself(self):
        # The role manages roles named <stack>-*; its own name must not be one.
        name = sub_string(self.role["RoleName"])
        self.assertFalse(name.startswith(STACK), f"RoleName {name} falls under the roles it may manage")

    def test_trust_policy(self):
        statements = self.role["AssumeRolePolicyDocument"]["Statement"]
        self.assertEqual(len(statements), 1)
        st = statements[0]
        self.assertEqual(st["Effect"], "Allow")
        self.assertEqual(st["Action"], "sts:AssumeRoleWithWebIdentity")
        federated = st["Principal"]["Federated"]
        self.assertEqual(federated["Fn::If"][0], "CreateOidcProvider")
        self.assertEqual(federated["Fn::If"][1], {"Fn::GetAtt": ["GitHubOidcProvider", "Arn"]})
        self.assertEqual(federated["Fn::If"][2], {"Ref": "ExistingOidcProviderArn"})
        self.assertEqual(set(st["Condition"]), {"StringEquals"}, "only exact matches: no StringLike wildcards")
        cond = st["Condition"]["StringEquals"]
        self.assertEqual(cond["token.actions.githubusercontent.com:aud"], "sts.amazonaws.com")
        sub = sub_string(cond["token.actions.githubusercontent.com:sub"])
        self.assertIsNotNone(sub)
        self.assertTrue(sub.startswith("repo:${GitHubRepository}:"), sub)
        self.assertNotIn("*", sub)
        self.assertNotRegex(sub, r"^repo:[^/]+/\*")
        self.assertEqual(sub, "repo:${GitHubRepository}:environment:${GitHubEnvironment}")

    def test_parameters_reject_wildcards(self):
        params = self.template["Parameters"]
        repo = re.compile(params["GitHubRepository"]["AllowedPattern"])
        for good in ("acme/trulience-token", "acme@123456/trulience-token@789012"):
            self.assertRegex(good, repo)
        for bad in ("*", "acme/*", "acme/trulience-token:*", "acme", ""):
            self.assertNotRegex(bad, repo)
        env = re.compile(params["GitHubEnvironment"]["AllowedPattern"])
        self.assertEqual(params["GitHubEnvironment"]["Default"], "production")
        self.assertNotRegex("*", env)
        self.assertEqual(params["TokenStackName"]["Default"], "trulience-token")
        self.assertNotRegex("*", re.compile(params["TokenStackName"]["AllowedPattern"]))

    def test_oidc_provider(self):
        provider = self.resources["GitHubOidcProvider"]
        self.assertEqual(provider["Type"], "AWS::IAM::OIDCProvider")
        self.assertEqual(provider["Condition"], "CreateOidcProvider")
        self.assertEqual(provider["Properties"]["Url"], "https://token.actions.githubusercontent.com")
        self.assertEqual(provider["Properties"]["ClientIdList"], ["sts.amazonaws.com"])
        self.assertEqual(self.template["Conditions"]["CreateOidcProvider"],
                         {"Fn::Equals": [{"Ref": "ExistingOidcProviderArn"}, ""]})

    def test_outputs_role_arn(self):
        self.assertEqual(self.template["Outputs"]["RoleArn"]["Value"], {"Fn::GetAtt": ["DeployRole", "Arn"]})
        self.assertEqual(self.template["Outputs"]["PermissionsBoundaryArn"]["Value"], BOUNDARY_REF)

    def test_roles_get_permissions_only_with_the_boundary(self):
        """Every grant that creates a role or adds to its permissions names the boundary."""
        granting = {a.lower() for a in GRANTING_IAM_ACTIONS}
        found = set()
        for st in self.statements():
            if st["Effect"] != "Allow":
                continue
            actions = {a.lower() for a in as_list(st["Action"])}
            if actions & granting:
                found |= actions & granting
                self.assertEqual(st.get("Condition", {}).get("StringEquals", {}).get("iam:PermissionsBoundary"),
                                 BOUNDARY_REF, f"{st.get('Sid')}: {sorted(actions & granting)} without the boundary")
        self.assertEqual(found, granting)

    def test_boundary_cannot_be_removed_or_replaced(self):
        denies = [st for st in self.statements() if st["Effect"] == "Deny"]
        remove = [st for st in denies if "iam:DeleteRolePermissionsBoundary" in as_list(st["Action"])]
        self.assertTrue(remove and all(st["Resource"] == "*" and "Condition" not in st for st in remove))
        other = [st for st in denies if {"iam:CreateRole", "iam:PutRolePermissionsBoundary"} <= set(as_list(st["Action"]))]
        self.assertEqual(len(other), 1)
        self.assertEqual(other[0]["Resource"], "*")
        self.assertEqual(other[0]["Condition"], {"StringNotEquals": {"iam:PermissionsBoundary": BOUNDARY_REF}})

    def test_cannot_modify_the_boundary_policy(self):
        boundary = self.resources[BOUNDARY]
        self.assertEqual(boundary["Type"], "AWS::IAM::ManagedPolicy")
        # Its name is not one of the <stack>-* names the role manages.
        self.assertFalse(sub_string(boundary["Properties"]["ManagedPolicyName"]).startswith(STACK))
        for st in self.statements():
            actions = set(as_list(st["Action"]))
            if st["Effect"] == "Allow":
                # No policy-editing action at all, and nothing granted on the boundary.
                self.assertFalse(actions & POLICY_EDITING_ACTIONS, st.get("Sid"))
                self.assertNotIn(BOUNDARY_REF, as_list(st["Resource"]), st.get("Sid"))
                self.assertFalse(any(a.startswith("iam:") and "Policy" in a and "Role" not in a for a in actions),
                                 f"{st.get('Sid')}: {sorted(actions)}")
        denied = set()
        for st in self.statements():
            if st["Effect"] == "Deny" and st["Resource"] == BOUNDARY_REF:
                denied |= set(as_list(st["Action"]))
        self.assertLessEqual(POLICY_EDITING_ACTIONS, denied)

    def test_service_linked_role_only_api_gateways_and_only_with_a_domain(self):
        found = []
        for st in self.role["Policies"][0]["PolicyDocument"]["Statement"]:
            if "Fn::If" in st and "iam:CreateServiceLinkedRole" in as_list(st["Fn::If"][1]["Action"]):
                self.assertEqual(st["Fn::If"][0], "HasDomain")
                found.append(st["Fn::If"][1])
            elif "Fn::If" not in st:
                self.assertNotIn("iam:CreateServiceLinkedRole", as_list(st["Action"]))
        (st,) = found
        self.assertEqual(st["Action"], "iam:CreateServiceLinkedRole")
        self.assertTrue(sub_string(st["Resource"]).endswith(
            "role/aws-service-role/ops.apigateway.amazonaws.com/AWSServiceRoleForAPIGateway"))
        self.assertEqual(st["Condition"], {"StringLike": {"iam:AWSServiceName": "ops.apigateway.amazonaws.com"}})


if __name__ == "__main__":
    unittest.main()
