"""Stands in for the SAM CLI in the tests of scripts/deploy.py.

Appends one JSON line per call to $FAKE_SAM_LOG: its arguments, and for
`sam deploy` the configuration the real CLI would take from samconfig.toml
in its working directory: [<env>.deploy.parameters] over
[<env>.global.parameters] (aws-sam-cli samcli/lib/config/samconfig.py,
SamConfig.get_all), with parameter_overrides split by the SAM CLI's own
expression (samcli/cli/types.py, CfnParameterOverridesType, copied below).
Exits 3 when the file does not parse or the overrides do not match.
"""

import json
import os
import re
import sys
import tomllib


def _generate_match_regex(match_pattern, delim=None):
    # samcli/cli/types.py, as written there.
    result = f"""(\\"(?:\\\\{match_pattern}|[^\\"\\\\]+)*\\"|""" + f"""\'(?:\\\\{match_pattern}|[^\'\\\\]+)*\'"""
    if delim is not None:
        return result + f"""|(?:\\\\{match_pattern}|[^{delim}\\"\\\\]+)+)"""
    return result + ")"


KEY_REGEX = """([A-Za-z0-9\\"\']+)"""
VALUE_REGEX_SPACE_DELIM = _generate_match_regex(match_pattern=".", delim=" ")
PATTERNS = [
    r"(?:ParameterKey={key},ParameterValue={value})".format(key=KEY_REGEX, value=VALUE_REGEX_SPACE_DELIM),
    r"(?:(?: ){key}={value})".format(key=KEY_REGEX, value=VALUE_REGEX_SPACE_DELIM),
]


def unquote(value):
    if value and value[0] == value[-1] and value[0] in ('"', "'") and value[-1] in ('"', "'"):
        value = value[1:-1]
    return value.replace("\\ ", " ").replace('\\"', '"').replace("\\'", "'")


def overrides(values):
    if isinstance(values, str):
        values = [values]
    parameters = {}
    for value in values:
        normalized = " " + value.strip()
        for pattern in PATTERNS:
            groups = re.findall(pattern, normalized)
            if groups:
                parameters.update(groups)
                break
        else:
            sys.exit(f"fake sam: parameter_overrides {value!r} is not a valid format")
    return {unquote(k): unquote(v) for k, v in parameters.items()}


def main():
    args = sys.argv[1:]
    entry = {"args": args, "cwd": os.getcwd()}
    if args and args[0] == "deploy":
        env = "default"
        if "--config-env" in args:
            env = args[args.index("--config-env") + 1]
        try:
            with open("samconfig.toml", "rb") as f:
                doc = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError) as e:
            print(f"fake sam: samconfig.toml: {e}", file=sys.stderr)
            sys.exit(3)
        params = dict(doc.get(env, {}).get("global", {}).get("parameters", {}))
        params.update(doc.get(env, {}).get("deploy", {}).get("parameters", {}))
        entry["config"] = params
        if "parameter_overrides" in params:
            entry["overrides"] = overrides(params["parameter_overrides"])
        # On the command line they replace the file's (SAM CLI options win
        # over samconfig.toml's).
        if "--parameter-overrides" in args:
            entry["overrides"] = overrides(args[args.index("--parameter-overrides") + 1])
    with open(os.environ["FAKE_SAM_LOG"], "a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")
    if args and args[0] == "deploy":
        sys.exit(int(os.environ.get("FAKE_SAM_DEPLOY_EXIT", "0")))


main()
