"""Stands in for the AWS CLI in the tests of pause.sh and resume.sh, for
the provisioned concurrency commands moto (5.2.1) does not implement: its
server answers 404 to every /2019-09-30/functions/<name>/provisioned-concurrency
request. Every other command goes to the real CLI ($REAL_AWS), against moto.

  lambda list-provisioned-concurrency-configs
  lambda put-provisioned-concurrency-config
  lambda delete-provisioned-concurrency-config

keep their state in the JSON file $FAKE_PC_STATE ({function: {qualifier: n}}),
after checking with moto that the function and the qualifier exist. Lambda's
rule between the two kinds of concurrency is enforced on both sides ("You
can't allocate more provisioned concurrency than reserved concurrency for a
function", docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html):
put-function-concurrency below the provisioned total and
put-provisioned-concurrency-config above the reserved concurrency fail with
InvalidParameterValueException (the wording of the messages is this file's;
AWS documents the rule, not the message).

Appends one line per lambda command to $FAKE_AWS_LOG: the command and its
--qualifier or --reserved-concurrent-executions, so the tests see the order.
"""

import json
import os
import subprocess
import sys

import jmespath

PROVISIONED = {
    "list-provisioned-concurrency-configs": "ListProvisionedConcurrencyConfigs",
    "put-provisioned-concurrency-config": "PutProvisionedConcurrencyConfig",
    "delete-provisioned-concurrency-config": "DeleteProvisionedConcurrencyConfig",
}


def real(args, capture=False):
    return subprocess.run([os.environ["REAL_AWS"], *args], capture_output=capture, text=True)


def fail(operation, code, message):
    print(f"\nAn error occurred ({code}) when calling the {operation} operation: {message}", file=sys.stderr)
    sys.exit(254)


def option(args, name):
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(name + "="):
            return a[len(name) + 1 :]
    return None


def global_args(args):
    """The options before the service (--endpoint-url, --region, --profile)."""
    out = []
    i = 0
    while i < len(args) and args[i].startswith("--"):
        out.append(args[i])
        if "=" not in args[i]:
            out.append(args[i + 1])
            i += 1
        i += 1
    return out, args[i:]


def text(value):
    if value is None:
        return "None"
    if isinstance(value, list):
        return "\n".join(text(v) if not isinstance(v, list) else "\t".join(text(x) for x in v) for v in value)
    return str(value)


def load():
    try:
        with open(os.environ["FAKE_PC_STATE"], encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def save(state):
    with open(os.environ["FAKE_PC_STATE"], "w", encoding="utf-8") as f:
        json.dump(state, f)


def main():
    g, rest = global_args(sys.argv[1:])
    if len(rest) < 2 or rest[0] != "lambda":
        sys.exit(real(sys.argv[1:]).returncode)
    command, args = rest[1], rest[2:]
    fn = option(args, "--function-name")
    with open(os.environ["FAKE_AWS_LOG"], "a", encoding="utf-8") as log:
        detail = option(args, "--qualifier") or option(args, "--reserved-concurrent-executions") or ""
        log.write(f"{command} {detail}".rstrip() + "\n")
    state = load()

    if command == "put-function-concurrency":
        n = int(option(args, "--reserved-concurrent-executions"))
        total = sum(state.get(fn, {}).values())
        if n < total:
            fail("PutFunctionConcurrency", "InvalidParameterValueException",
                 f"reserved concurrency {n} is below the function's provisioned concurrency {total}")
    if command not in PROVISIONED:
        sys.exit(real(sys.argv[1:]).returncode)

    operation = PROVISIONED[command]
    got = real([*g, "lambda", "get-function", "--function-name", fn, "--output", "json"], capture=True)
    if got.returncode != 0:
        fail(operation, "ResourceNotFoundException", f"Function not found: {fn}")
    arn = json.loads(got.stdout)["Configuration"]["FunctionArn"]
    configs = state.setdefault(fn, {})
    qualifier = option(args, "--qualifier")
    if qualifier is not None and real([*g, "lambda", "get-function", "--function-name", fn, "--qualifier", qualifier],
                                      capture=True).returncode != 0:
        fail(operation, "ResourceNotFoundException", f"Function not found: {arn}:{qualifier}")

    if command == "list-provisioned-concurrency-configs":
        response = {"ProvisionedConcurrencyConfigs": [
            {"FunctionArn": f"{arn}:{q}", "RequestedProvisionedConcurrentExecutions": n,
             "AvailableProvisionedConcurrentExecutions": n, "AllocatedProvisionedConcurrentExecutions": n,
             "Status": "READY", "LastModified": "2026-01-01T00:00:00+0000"}
            for q, n in configs.items()]}
    elif command == "put-provisioned-concurrency-config":
        n = int(option(args, "--provisioned-concurrent-executions"))
        out = real([*g, "lambda", "get-function-concurrency", "--function-name", fn, "--output", "json"], capture=True)
        reserved = json.loads(out.stdout or "{}").get("ReservedConcurrentExecutions")
        others = sum(v for q, v in configs.items() if q != qualifier)
        if reserved is not None and others + n > reserved:
            fail(operation, "InvalidParameterValueException",
                 f"provisioned concurrency {others + n} would exceed the reserved concurrency {reserved}")
        configs[qualifier] = n
        response = {"RequestedProvisionedConcurrentExecutions": n, "AllocatedProvisionedConcurrentExecutions": 0,
                    "Status": "IN_PROGRESS", "LastModified": "2026-01-01T00:00:00+0000"}
    else:
        if configs.pop(qualifier, None) is None:
            fail(operation, "ProvisionedConcurrencyConfigNotFoundException",
                 f"No Provisioned Concurrency Config found for this function: {arn}:{qualifier}")
        response = None
    save(state)

    if response is None:
        return
    query = option(args, "--query")
    if query:
        response = jmespath.search(query, response)
    if option(args, "--output") == "text":
        print(text(response))
    else:
        print(json.dumps(response, indent=4))


main()
