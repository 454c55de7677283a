"""Runs checkov on the template and holds its failures to infra/checkov-exceptions.yaml.

Fails on a failed check not listed there, and on a listed one that passes now. Nothing
is downloaded (--skip-download): checkov's guideline links need a network this does not use.
Usage: checkov.py CHECKOV TEMPLATE EXCEPTIONS
"""
import json
import subprocess
import sys

import yaml

checkov, template, exceptions_path = sys.argv[1:4]
with open(exceptions_path) as f:
    exceptions = yaml.safe_load(f)

problems = []
for check_id, entry in exceptions.items():
    if not (entry.get("why") or "").strip():
        problems.append(f"{exceptions_path}: {check_id} gives no reason")

run = subprocess.run(
    [checkov, "-f", template, "--framework", "cloudformation", "--quiet", "--skip-download", "-o", "json"],
    capture_output=True,
    text=True,
)
if run.returncode not in (0, 1) or not run.stdout.strip():
    sys.exit(f"checkov did not run: {run.stderr.strip()[-2000:]}")
report = json.loads(run.stdout)
summary = report["summary"]
failed = {(c["check_id"], c["resource"].split(".", 1)[1]) for c in report["results"]["failed_checks"]}
accepted = {(check_id, resource) for check_id, entry in exceptions.items() for resource in entry["resources"]}

for check_id, resource in sorted(failed - accepted):
    problems.append(f"{check_id} fails for {resource} and is not an accepted exception")
for check_id, resource in sorted(accepted - failed):
    problems.append(f"{check_id} no longer fails for {resource}: drop it from {exceptions_path}")

print(
    f"checkov {summary['checkov_version']}: {summary['passed']} passed, {summary['failed']} failed "
    f"({len(failed & accepted)} accepted in {exceptions_path}, over {len(exceptions)} checks), "
    f"{summary['resource_count']} resources"
)
if problems:
    sys.exit("\n".join(problems))
