"""deploy/k8s/ validated offline: Kubernetes kinds against the schemas kubernetes-validate bundles
(strict: an unknown field is an error), the FlinkDeployment against the Flink Kubernetes Operator's
own CRD, staged by `watchfloor stack fetch` from Maven Central (here, not in tests/unit, for that).

This says the manifests are well-formed for Kubernetes 1.37 and the operator's 1.10 API; it does not
say they run: no cluster was available (deploy/README.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from connectors.stack.artifacts import flink_deployment_crd
from schemas.settings import StackSettings

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
KUBERNETES = "1.37.0"


def _documents() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{path.name}#{n}", doc)
        for path in sorted(K8S.glob("*.yaml"))
        for n, doc in enumerate(yaml.safe_load_all(path.read_text()))
        if doc
    ]


def _crd_schema() -> dict[str, Any]:
    crd_file = flink_deployment_crd(StackSettings())
    assert crd_file.exists(), f"{crd_file} is not staged: run `watchfloor stack fetch`"
    crd = yaml.safe_load(crd_file.read_text())
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1beta1"]
    schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
    return schema


def unknown_fields(doc: Any, schema: dict[str, Any], at: str = "") -> list[str]:
    """Fields the schema does not declare (the API server would prune them: a typo goes unnoticed)."""
    if isinstance(doc, list) and "items" in schema:
        return [f for n, item in enumerate(doc) for f in unknown_fields(item, schema["items"], f"{at}[{n}]")]
    if not isinstance(doc, dict) or "properties" not in schema:
        return []
    found = []
    for key, value in doc.items():
        if key in schema["properties"]:
            found += unknown_fields(value, schema["properties"][key], f"{at}.{key}")
        elif not (schema.get("additionalProperties") or schema.get("x-kubernetes-preserve-unknown-fields")):
            found.append(f"{at}.{key}")
    return found


def test_the_kubernetes_manifests_are_valid_and_name_no_unknown_field() -> None:
    kinds = set()
    for name, doc in _documents():
        kinds.add(doc["kind"])
        if doc["kind"] == "FlinkDeployment":
            continue
        try:
            kubernetes_validate.validate(doc, KUBERNETES, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{name}: {exc}")
    assert {"Deployment", "ConfigMap", "Secret", "FlinkDeployment"} <= kinds, kinds


def test_the_flink_deployment_fits_the_operators_crd_and_its_pod_template_is_a_pod() -> None:
    schema = _crd_schema()
    (deployment,) = [doc for _, doc in _documents() if doc["kind"] == "FlinkDeployment"]
    jsonschema.validate(deployment, schema)
    # The API server itself owns apiVersion, kind and metadata; the CRD declares the rest.
    assert unknown_fields({k: deployment[k] for k in ("spec",)}, schema) == []
    kubernetes_validate.validate(deployment["spec"]["taskManager"]["podTemplate"], KUBERNETES, strict=True)


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"spec": {"flinkVersion": "v1_19", "jobManger": {}}}, [".spec.jobManger"]),
        ({"spec": {"taskManager": {"replicas": 1, "resources": {}}}}, [".spec.taskManager.resources"]),
        ({"spec": {"flinkConfiguration": {"any.key": "1"}}}, []),
    ],
)
def test_a_misspelt_field_is_found(doc: dict[str, Any], expected: list[str]) -> None:
    assert unknown_fields(doc, _crd_schema()) == expected
