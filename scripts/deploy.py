#!/usr/bin/env python3
"""make deploy: sam build && sam deploy, and for a stack that does not exist
yet, first the few questions a working stack needs.

Python 3.8+, standard library only. It edits one table of samconfig.toml as
lines (the standard library reads TOML from 3.11 on but never writes it),
so every other table, key and comment stays as it was; docs/deploy.md says
why this is Python and how the file is written.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATE = os.path.join(ROOT, "template.yaml")
SAMCONFIG = os.path.join(ROOT, "samconfig.toml")
DEFAULT_STACK = "trulience-token"

USAGE = """\
Usage: scripts/deploy.py [options]

Builds and deploys the token stack (make deploy).

When the stack named in samconfig.toml exists, this is sam build && sam
deploy, with the parameters saved there. When it does not exist yet, it asks
first: stack name, region, avatar IDs, allowed origins, then offers the
optional features by name (alarm email, limits, bot check, signed-in mode,
custom domain). Answers are checked against template.yaml's patterns and
saved in samconfig.toml's [default.deploy.parameters] (stack_name, region,
parameter_overrides, capabilities, resolve_s3, confirm_changeset) and
[default.global.parameters] (stack_name, region); every other table is kept.
Later runs, and a plain sam deploy, need no answers. It prints what to do
next: store the API key, smoke-test.

Every parameter instead: sam build && sam deploy --guided (make deploy GUIDED=1).

Options:
  --profile PROFILE    AWS profile, for the AWS CLI and sam
  --region REGION      AWS region (default: samconfig.toml's, else your
                       AWS configuration's)
  --endpoint-url URL   CloudFormation endpoint for the does-it-exist check
                       (a local emulator)
  -h, --help           show this help
"""

# The optional features: (name, question, [(parameter, prompt, default, required)], note).
FEATURES = [
    (
        "alarms",
        "Alarms by email (function errors, throttles, the API's 5xx...)?",
        [("AlarmEmail", "Email address the alarms notify", "", True)],
        "Confirm the subscription in the email AWS sends to {AlarmEmail}.",
    ),
    (
        "limits",
        "Limits: tokens per visitor and per day (counted in DynamoDB)?",
        [
            ("ClientTokenLimit", "Tokens per visitor per window, N/WINDOW (empty: none)", "5/10m", False),
            ("DailyTokenLimit", "Tokens per UTC day, all visitors (empty: none)", "", False),
        ],
        "",
    ),
    (
        "bot check",
        "Bot check with Cloudflare Turnstile?",
        [("BotCheck", "monitor (log only, start with this) or enforce", "monitor", True)],
        "Store the Turnstile secret key too:\n"
        "     scripts/put-api-key.sh --turnstile-secret --stack-name {stack} --region {region}",
    ),
    (
        "signed-in mode",
        "Signed-in mode: only visitors with your login's JWT get tokens?",
        [
            ("JwtIssuer", "Issuer (iss) of your login's JWTs, https://...", "", True),
            ("JwtAudience", "Audience(s), comma-separated (aud or client_id)", "", True),
        ],
        "",
    ),
    (
        "custom domain",
        "Custom domain for the endpoint (an ACM certificate in the same region)?",
        [
            ("DomainName", "Domain name, e.g. token.example.com", "", True),
            ("CertificateArn", "ARN of its ACM certificate", "", True),
            ("HostedZoneId", "Route 53 hosted zone ID for the alias record (empty: add DNS yourself)", "", False),
        ],
        "",
    ),
]

STACK_PATTERN = r"[A-Za-z][A-Za-z0-9-]{0,127}"
REGION_PATTERN = r"[a-z]{2}(-[a-z]+)+-[0-9]+"


class Stop(Exception):
    """Ends the run with a message and a non-zero exit."""


def main(argv):
    opts = parse_args(argv)
    params = template_parameters(read(TEMPLATE))
    doc = read(SAMCONFIG) if os.path.exists(SAMCONFIG) else ""
    stack = config_value(doc, "default", "stack_name") or DEFAULT_STACK
    region = opts["region"] or config_value(doc, "default", "region") or configured_region(opts)
    profile_args = ["--profile", opts["profile"]] if opts["profile"] else []

    status = stack_status(stack, region, opts) if region else None
    if status is not None and status != "REVIEW_IN_PROGRESS":
        refuse_broken(stack, region, status)
        print(f"Stack {stack} exists in {region}: sam build && sam deploy with samconfig.toml's parameters.")
        extra = ["--region", opts["region"]] if opts["region"] else []
        run(["sam", "build"] + profile_args)
        run(["sam", "deploy"] + profile_args + extra + release_args(doc))
        return

    where = f" in {region}" if region else ""
    print(f"Stack {stack} does not exist{where} yet: a few questions, then sam build and sam deploy.")
    print("(Ctrl-C stops; every answer can be changed later in samconfig.toml.)\n")
    stack = ask("Stack name", stack, lambda v: check_pattern(v, STACK_PATTERN, "letters, digits and hyphens, starting with a letter"))
    region = ask("AWS region", region or "", lambda v: check_pattern(v, REGION_PATTERN, "a region such as eu-west-1"))
    status = stack_status(stack, region, opts)
    if status is not None and status != "REVIEW_IN_PROGRESS":
        refuse_broken(stack, region, status)
        raise Stop(
            f"stack {stack} already exists in {region}: deploy it with "
            f"sam deploy --stack-name {stack} --region {region} (its parameters stay), "
            "or pick another name"
        )

    answers = {}
    answers["AllowedAvatarIds"] = ask(
        "Trulience avatar IDs, comma-separated (the first is the default)", "", param_check(params, "AllowedAvatarIds", True), squeeze=True
    )
    answers["AllowedOrigins"] = ask(
        "Your site's origins, comma-separated, e.g. https://www.example.com (empty: server-to-server only)",
        "",
        param_check(params, "AllowedOrigins", False),
        squeeze=True,
    )
    notes = []
    asked = {"AllowedAvatarIds", "AllowedOrigins"}
    for name, question, fields, note in FEATURES:
        if not all(p in params for p, _, _, _ in fields):
            continue  # this template has no such feature
        asked.update(p for p, _, _, _ in fields)
        if not ask_yes_no(question):
            continue
        values = {}
        while True:
            for param, prompt, default, required in fields:
                values[param] = ask(prompt, default, param_check(params, param, required), squeeze=True)
            if any(values.values()):
                break
            print(f"  {name}: give at least one value, or answer no.")
            if not ask_yes_no(question):
                values = {}
                break
        answers.update(values)
        if values and note:
            notes.append(note.format(stack=stack, region=region, **values))

    overrides = merged_overrides(doc, answers, asked)
    new_doc = write_config(doc, stack, region, overrides)
    save(SAMCONFIG, new_doc)
    print(f"\nSaved in samconfig.toml: stack {stack}, region {region}, parameter_overrides = {overrides}")

    run(["sam", "build"] + profile_args)
    run(["sam", "deploy"] + profile_args + release_args(new_doc))

    origin = answers["AllowedOrigins"].split(",")[0]
    smoke = f"make smoke STACK_NAME={stack} AWS_REGION={region}" + (f" ORIGIN={origin}" if origin else "")
    print(
        "\nDeployed. Next:\n"
        "  1. Store the Trulience API key (read from standard input, never an argument):\n"
        f"     scripts/put-api-key.sh --stack-name {stack} --region {region}\n"
        "  2. Smoke-test the endpoint (its URL is the TokenEndpoint output above):\n"
        f"     {smoke}"
    )
    for i, note in enumerate(notes, start=3):
        print(f"  {i}. {note}")
    print("Later deploys: make deploy (or sam build && sam deploy).")


def parse_args(argv):
    opts = {"profile": "", "region": "", "endpoint-url": ""}
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg in ("-h", "--help"):
            sys.stdout.write(USAGE)
            sys.exit(0)
        name, eq, value = arg.partition("=")
        if name[2:] not in opts or not name.startswith("--"):
            sys.stderr.write(USAGE)
            raise Stop(f"unknown argument: {arg}")
        if not eq:
            value = args.pop(0) if args else ""
        if not value:
            raise Stop(f"{name} needs a value (see --help)")
        opts[name[2:]] = value
    return opts


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


# --- template.yaml ---------------------------------------------------------


def template_parameters(text):
    """Each parameter's AllowedPattern, AllowedValues and ConstraintDescription,
    read from the Parameters block as template.yaml writes it (block style,
    two-space indents); dev/template checks this against a YAML parser."""
    params = {}
    current = None
    in_params = False
    pending_list = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent == 0:
            in_params = line.rstrip() == "Parameters:"
            current = None
            continue
        if not in_params:
            continue
        if indent == 2 and line.rstrip().endswith(":"):
            current = params.setdefault(line.strip()[:-1], {})
            pending_list = None
            continue
        if current is None:
            continue
        stripped = line.strip()
        if indent == 4:
            pending_list = None
            key, _, value = stripped.partition(":")
            value = value.strip()
            if key == "AllowedValues":
                if value:
                    current[key] = [yaml_scalar(v) for v in split_flow(value)]
                else:
                    current[key] = pending_list = []
            elif key in ("AllowedPattern", "ConstraintDescription", "Default"):
                current[key] = yaml_scalar(value)
        elif pending_list is not None and stripped.startswith("- "):
            pending_list.append(yaml_scalar(stripped[2:]))
    return params


def split_flow(value):
    """The items of a one-line YAML flow sequence: [a, "b", 'c']."""
    inner = value.strip()
    if not (inner.startswith("[") and inner.endswith("]")):
        return [value]
    return [m.group(0) for m in re.finditer(r'"(?:\\.|[^"\\])*"|\'(?:\'\'|[^\'])*\'|[^,\[\]\s][^,\[\]]*', inner[1:-1])]


def yaml_scalar(value):
    """A one-line YAML scalar: plain (a trailing ' #' comment dropped),
    'single-quoted' or "double-quoted" (the escapes a pattern needs)."""
    value = value.strip()
    if value.startswith("'") and value.endswith("'") and len(value) >= 2:
        return value[1:-1].replace("''", "'")
    if value.startswith('"') and value.endswith('"') and len(value) >= 2:
        escapes = {'"': '"', "\\": "\\", "/": "/", "n": "\n", "t": "\t"}
        return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), "\\" + m.group(1)), value[1:-1])
    return re.sub(r"\s+#.*$", "", value)


def check_pattern(value, pattern, description):
    if re.fullmatch(pattern, value) is None:
        return f"must be {description}"
    return None


def param_check(params, name, required):
    """A check of an answer for parameter name: the template's
    AllowedPattern or AllowedValues (CloudFormation matches the whole value)."""
    spec = params[name]

    def check(value):
        if required and not value:
            return "an answer is needed"
        if "AllowedValues" in spec and value not in spec["AllowedValues"]:
            return "must be one of " + ", ".join(spec["AllowedValues"])
        if "AllowedPattern" in spec and re.fullmatch(spec["AllowedPattern"], value) is None:
            return "must be " + spec.get("ConstraintDescription", f"like {spec['AllowedPattern']}")
        return None

    return check


# --- questions ---------------------------------------------------------------


def answer(prompt):
    try:
        return input(prompt)
    except EOFError:
        print()
        raise Stop("no answer on standard input: nothing was changed or deployed") from None


def ask(question, default, check, squeeze=False):
    """Asks until check (None for a good answer, else what is wrong) accepts."""
    shown = f" [{default}]" if default else ""
    while True:
        value = answer(f"{question}{shown}: ").strip()
        if squeeze:  # "1, 2" for "1,2": lists are written without spaces
            value = re.sub(r"\s*,\s*", ",", value)
        value = value or default
        problem = check(value)
        if problem is None:
            return value
        print(f"  {value!r}: {problem}")


def ask_yes_no(question):
    while True:
        value = answer(f"{question} [y/N]: ").strip().lower()
        if value in ("", "n", "no"):
            return False
        if value in ("y", "yes"):
            return True
        print("  answer y or n")


# --- AWS -----------------------------------------------------------------------


def aws(opts, args, region=None):
    cmd = ["aws"]
    if opts["profile"]:
        cmd += ["--profile", opts["profile"]]
    if opts["endpoint-url"]:
        cmd += ["--endpoint-url", opts["endpoint-url"]]
    if region:
        cmd += ["--region", region]
    return subprocess.run(cmd + args, capture_output=True, text=True)


def configured_region(opts):
    """The region the AWS CLI would use: AWS_REGION, AWS_DEFAULT_REGION, else the profile's."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if os.environ.get(name):
            return os.environ[name]
    if shutil.which("aws") is None:
        return ""
    r = aws(opts, ["configure", "get", "region"])
    return r.stdout.strip() if r.returncode == 0 else ""


def stack_status(stack, region, opts):
    """The stack's status, or None when there is no such stack."""
    if shutil.which("aws") is None:
        raise Stop("the AWS CLI (aws) is not installed")
    r = aws(opts, ["cloudformation", "describe-stacks", "--stack-name", stack, "--query", "Stacks[0].StackStatus", "--output", "text"], region)
    if r.returncode == 0:
        return r.stdout.strip()
    if "does not exist" in r.stderr:
        return None
    raise Stop(f"cannot tell whether stack {stack} exists in {region}:\n{r.stderr.strip()}")


def refuse_broken(stack, region, status):
    """Stops on a stack no deploy can update: a failed first create leaves
    ROLLBACK_COMPLETE, which CloudFormation only deletes."""
    if status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED"):
        raise Stop(
            f"stack {stack} in {region} is {status}: its first deploy failed and it cannot be updated. "
            f"Read why in the CloudFormation console (its events), delete it with "
            f"sam delete --stack-name {stack} --region {region}, then run make deploy again"
        )


def run(cmd):
    print("+ " + " ".join(cmd), flush=True)
    code = subprocess.run(cmd, cwd=ROOT).returncode
    if code != 0:
        raise Stop(f"{' '.join(cmd[:2])} failed (exit {code})")


# --- samconfig.toml ------------------------------------------------------------
#
# The SAM CLI reads samconfig.toml per environment and command:
# [<env>.<command>.parameters], merged over [<env>.global.parameters]
# (samcli/lib/config/samconfig.py, get_all). parameter_overrides is a string
# "Key=Value Key2=\"value\"" split by a regular expression
# (samcli/cli/types.py, CfnParameterOverridesType), or a list of such
# strings; sam deploy --guided writes the string form with every value in
# double quotes (samcli/commands/deploy/guided_config.py), as this does.

HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]\s*(#.*)?$")
KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=\s*(.*)$")
# SAM's pattern for one Key=Value of parameter_overrides (samcli/cli/types.py,
# _generate_match_regex with delim " ").
_VALUE = r'("(?:\\.|[^"\\]+)*"|\'(?:\\.|[^\'\\]+)*\'|(?:\\.|[^ "\\]+)+)'
OVERRIDE = re.compile(r"(?: )([A-Za-z0-9\"']+)=" + _VALUE)


def tables(doc):
    """The lines of doc grouped as (table name or None, [lines])."""
    groups = [(None, [])]
    for line in doc.splitlines(keepends=True):
        m = HEADER.match(line)
        if m:
            groups.append((m.group(1), []))
        groups[-1][1].append(line)
    return groups


def toml_string(value):
    """value as a TOML basic string."""
    out = ['"']
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out) + '"'


def toml_basic_value(raw):
    """The value of a one-line TOML basic or literal string, else None."""
    raw = raw.strip()
    m = re.match(r'^"((?:\\.|[^"\\])*)"\s*(#.*)?$', raw)
    if m:
        return json.loads('"' + m.group(1) + '"') if "\\U" not in m.group(1) else None
    m = re.match(r"^'([^']*)'\s*(#.*)?$", raw)
    return m.group(1) if m else None


def config_value(doc, env, key):
    """key of [env.deploy.parameters], else of [env.global.parameters]."""
    for table in (f"{env}.deploy.parameters", f"{env}.global.parameters"):
        for name, lines in tables(doc):
            if name != table:
                continue
            for line in lines[1:]:
                m = KEY.match(line)
                if m and m.group(1) == key:
                    return toml_basic_value(m.group(2))
    return None


def release_args(doc):
    """--parameter-overrides for sam deploy: samconfig.toml's own, and
    ReleaseDigest, a digest of them, so that a change of parameters alone
    publishes a new version behind the alias live (template.yaml). On the
    command line they replace samconfig.toml's, hence both."""
    given = config_value(doc, "default", "parameter_overrides") or ""
    pairs = []
    for key, value in OVERRIDE.findall(" " + given.strip()):
        key = key.strip("\"'")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        if key != "ReleaseDigest":
            pairs.append(f"{key}={value}")
    digest = hashlib.sha256("".join(p + "\n" for p in sorted(pairs)).encode()).hexdigest()[:16]
    kept = " ".join(f"{p.split('=', 1)[0]}={quote_override(p.split('=', 1)[1])}" for p in pairs)
    return ["--parameter-overrides", (kept + " " if kept else "") + f"ReleaseDigest={digest}"]


def quote_override(value):
    return '"' + value.replace('"', '\\"') + '"'


def merged_overrides(doc, answers, asked):
    """parameter_overrides: the answers, plus the pairs an existing string
    held for parameters not asked about (LogLevel=debug stays)."""
    kept = {}
    old = config_value(doc, "default", "parameter_overrides")
    if old:
        for key, value in OVERRIDE.findall(" " + old.strip()):
            key = key.strip("\"'")
            if key not in asked:
                if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                    value = value[1:-1]
                kept[key] = value.replace("\\ ", " ").replace('\\"', '"').replace("\\'", "'")
    pairs = dict(answers)
    pairs.update(kept)
    # An empty answer is the parameter's default on a new stack: left out,
    # except AllowedOrigins, whose empty value is a choice worth seeing.
    return " ".join(f"{k}={quote_override(v)}" for k, v in pairs.items() if v != "" or k == "AllowedOrigins")


def set_keys(lines, values, only_if_missing=()):
    """The lines of one table with values set: a key's line (and the lines
    of a multi-line array) replaced, or new lines after its last key."""
    out = [lines[0]]
    seen = set()
    i = 1
    while i < len(lines):
        m = KEY.match(lines[i])
        if m and m.group(1) in values:
            key = m.group(1)
            seen.add(key)
            end = i
            if m.group(2).strip().startswith("[") and "]" not in m.group(2):
                while end + 1 < len(lines) and "]" not in lines[end]:
                    end += 1
            elif m.group(2).strip().startswith(('"""', "'''")):
                raise Stop(f"samconfig.toml: {key} is a multi-line string; make it one line, then run again")
            if key in only_if_missing:
                out.extend(lines[i : end + 1])
            else:
                out.append(f"{key} = {values[key]}\n")
            i = end + 1
            continue
        out.append(lines[i])
        i += 1
    missing = [f"{k} = {v}\n" for k, v in values.items() if k not in seen]
    last = max([j for j, line in enumerate(out) if KEY.match(line)] + [0])
    if out[last] and not out[last].endswith("\n"):
        out[last] += "\n"
    return out[: last + 1] + missing + out[last + 1 :]


def write_config(doc, stack, region, overrides):
    """doc with the answers in [default.deploy.parameters] and the stack and
    region in [default.global.parameters] (which sam delete, sam logs and
    scripts/*.sh read); every other line as it was."""
    wanted = {
        "default.deploy.parameters": (
            {
                "stack_name": toml_string(stack),
                "region": toml_string(region),
                "parameter_overrides": toml_string(overrides),
                "capabilities": toml_string("CAPABILITY_IAM"),
                "resolve_s3": "true",
                "confirm_changeset": "true",
            },
            {"capabilities", "resolve_s3", "confirm_changeset"},
        ),
        "default.global.parameters": ({"stack_name": toml_string(stack), "region": toml_string(region)}, ()),
    }
    groups = tables(doc)
    if not doc.strip():
        groups = [(None, ["version = 0.1\n"])]
    out = []
    for name, lines in groups:
        if name in wanted:
            values, keep = wanted.pop(name)
            lines = set_keys(lines, values, keep)
        out.extend(lines)
    for name, (values, _) in wanted.items():
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n"
        out.append(f"\n[{name}]\n")
        out.extend(f"{k} = {v}\n" for k, v in values.items())
    return "".join(out)


def save(path, text):
    """Writes text to path whole (a temporary file renamed over it), after
    checking, where Python can read TOML (3.11+), that it parses."""
    try:
        import tomllib  # noqa: PLC0415 (3.11+)
    except ImportError:
        tomllib = None
    if tomllib is not None:
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise Stop(f"samconfig.toml would not parse after the change ({e}); it was left as it was") from None
    mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o644
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".samconfig.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except Stop as e:
        sys.stderr.write(f"deploy: {e}\n")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.stderr.write("\ndeploy: stopped\n")
        sys.exit(130)
