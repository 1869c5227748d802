"""scripts/deploy.py reads template.yaml's parameters without a YAML library:
its reading must agree with a real parser's on every pattern it checks
answers against.

Run (make test does): .venv/bin/python -m unittest discover -s dev/template -v
"""

import importlib.util
import os
import sys
import unittest

from samtranslator.yaml_helper import yaml_parse

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def load_deploy():
    sys.dont_write_bytecode = True  # no __pycache__ in scripts/
    spec = importlib.util.spec_from_file_location("deploy", os.path.join(ROOT, "scripts", "deploy.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class DeployScriptReadsTheTemplate(unittest.TestCase):
    def test_parameters_as_a_yaml_parser_reads_them(self):
        with open(os.path.join(ROOT, "template.yaml"), encoding="utf-8") as f:
            text = f.read()
        want = yaml_parse(text)["Parameters"]
        got = load_deploy().template_parameters(text)
        self.assertEqual(set(got), set(want))
        for name, spec in want.items():
            for field in ("AllowedPattern", "AllowedValues", "ConstraintDescription"):
                with self.subTest(parameter=name, field=field):
                    value = spec.get(field)
                    if field == "AllowedValues" and value is not None:
                        value = [str(v) for v in value]
                    self.assertEqual(got[name].get(field), value)

    def test_every_feature_names_parameters_the_script_can_check(self):
        deploy = load_deploy()
        with open(os.path.join(ROOT, "template.yaml"), encoding="utf-8") as f:
            params = deploy.template_parameters(f.read())
        for name, _, fields, _ in deploy.FEATURES:
            present = [p for p, _, _, _ in fields if p in params]
            with self.subTest(feature=name):
                # All or none: a feature half declared would be offered never.
                self.assertIn(len(present), (0, len(fields)), f"{name}: only {present} in template.yaml")
                for p in present:
                    self.assertTrue({"AllowedPattern", "AllowedValues"} & set(params[p]), f"{p} has no pattern to check answers with")


if __name__ == "__main__":
    unittest.main()
