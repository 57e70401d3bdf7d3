// Validates custom resources against their CRDs' OpenAPI schemas, as compiled by the
// npm packages @kubernetes-models/keda and @kubernetes-models/prometheus-operator
// (installed into .cache/crd by scripts/install-test-deps.sh).
//
// stdin: a JSON array of resources. stdout: a JSON array, one entry per resource:
// {"kind": ..., "name": ..., "errors": [...]} (errors empty when the resource is valid).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const PACKAGES = { "keda.sh": "keda", "monitoring.coreos.com": "prometheus-operator" };
const MODELS = join(process.argv[2], "node_modules", "@kubernetes-models");

async function validate(resource) {
  const [group, version] = String(resource.apiVersion).split("/");
  const pkg = PACKAGES[group];
  const entry = { kind: resource.kind, name: resource.metadata?.name ?? null, errors: [] };
  if (!pkg || !version) {
    entry.errors.push(`no CRD schema known for apiVersion ${resource.apiVersion}`);
    return entry;
  }
  const path = join(MODELS, pkg, group, version, `${resource.kind}.js`);
  if (!existsSync(path)) {
    entry.errors.push(`no CRD schema for ${resource.apiVersion} ${resource.kind} (${path})`);
    return entry;
  }
  const module = await import(pathToFileURL(path).href);
  try {
    new module[resource.kind](resource).validate();
  } catch (error) {
    entry.errors.push(String(error.message ?? error));
  }
  return entry;
}

const resources = JSON.parse(readFileSync(0, "utf8"));
const results = [];
for (const resource of resources) results.push(await validate(resource));
process.stdout.write(JSON.stringify(results));
