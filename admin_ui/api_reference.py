"""The API reference as Markdown (`docs/api-reference.md`), written from the OpenAPI document.

The document is built from the routes themselves (admin_ui/openapi.py), so the reference in
the repository is regenerated, never edited: `flask --app plugin api-reference` writes it,
and a test fails when the committed file differs from what the routes say today.
"""
import json

HEADER = """# API reference

Generated from the routes by `flask --app plugin api-reference`; do not edit by hand. The same
document is served by the app at `/api/openapi.json` (OpenAPI 3.1) and rendered at `/api/docs`.
How to authenticate, scopes and rate limits: [api.md](api.md).

Every operation answers `401` without a valid session token or API key and `503` when the
database was busy (nothing changed; try again after `Retry-After`). Errors are JSON:
`{"error": "...", "fields": {"name": "why"}}`.
"""


def markdown(spec: dict) -> str:
    """The reference: one section per tag (the path's first part), one entry per operation."""
    by_tag: dict[str, list] = {}
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            by_tag.setdefault(operation["tags"][0], []).append((path, method.upper(), operation))
    parts = [HEADER]
    for tag in sorted(by_tag):
        parts.append(f"## {tag}\n")
        for path, method, operation in by_tag[tag]:
            parts.append(_operation(path, method, operation))
    return "\n".join(parts).rstrip() + "\n"


def _operation(path: str, method: str, operation: dict) -> str:
    keys_allowed = any("apiKey" in scheme for scheme in operation.get("security", []))
    lines = [f"### `{method} {path}`\n", f"{operation['summary']}.\n" if not operation["summary"].endswith(".")
             else f"{operation['summary']}\n",
             f"Authentication: session token{' or API key' if keys_allowed else ' only'}.\n"]
    parameters = operation.get("parameters", [])
    if parameters:
        lines.append("| parameter | in | type |\n| --- | --- | --- |")
        lines += [f"| `{p['name']}` | {p['in']} | {_type(p['schema'])} |" for p in parameters]
        lines.append("")
    body = operation.get("requestBody")
    if body:
        schema = body["content"]["application/json"]["schema"]
        required = set(schema.get("required", ()))
        lines.append("| body field | type | required |\n| --- | --- | --- |")
        lines += [f"| `{name}` | {_type(field)} | {'yes' if name in required else 'no'} |"
                  for name, field in schema.get("properties", {}).items()]
        lines.append("")
    answers = [f"`{status}` {answer['description']}" for status, answer in operation["responses"].items()
               if status not in ("401", "503")]
    lines.append("Answers: " + "; ".join(answers) + ".\n")
    return "\n".join(lines)


def _type(schema: dict) -> str:
    if set(schema) <= {"type", "minimum", "maximum"} and "type" in schema:
        return str(schema["type"])
    return "`" + json.dumps(schema, separators=(", ", ": ")).replace("|", "\\|") + "`"
