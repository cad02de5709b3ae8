// A Node gRPC client built only from the published contract (proto/) and the standard health
// protocol: it proves that a client in another language can talk to the service.
//
// Usage: node client.mjs ADDRESS
// Reads the bearer token from INTEGRATION_API_TOKEN (no token: the call goes without one) and
// prints one JSON object: the health check's outcome and ListCredentials' outcome.

import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";

const HERE = dirname(fileURLToPath(import.meta.url));
const CONTRACT_DIR = join(HERE, "..", "..", "proto");
const CALL_TIMEOUT_MS = 10_000;

const LOAD_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

function contractFiles() {
  const packageDir = join(CONTRACT_DIR, "integration", "v1");
  return readdirSync(packageDir)
    .filter((name) => name.endsWith(".proto"))
    .map((name) => `integration/v1/${name}`);
}

function loadServices() {
  // Every file of the contract is loaded, so one that Node's loader rejects fails the check.
  // The google/protobuf well-known types it imports come bundled with protobufjs, so loading
  // needs no network and no copy of them here.
  const contract = protoLoader.loadSync(contractFiles(), {
    ...LOAD_OPTIONS,
    includeDirs: [CONTRACT_DIR],
  });
  const health = protoLoader.loadSync(join(HERE, "health.proto"), LOAD_OPTIONS);
  return {
    integration: grpc.loadPackageDefinition(contract).integration.v1,
    health: grpc.loadPackageDefinition(health).grpc.health.v1,
  };
}

const STATUS_NAMES = Object.fromEntries(
  Object.entries(grpc.status).map(([name, code]) => [code, name]),
);

function unaryCall(client, method, request, metadata) {
  const deadline = new Date(Date.now() + CALL_TIMEOUT_MS);
  return new Promise((resolve) => {
    client[method](request, metadata, { deadline }, (error, reply) => {
      if (error) {
        const code = STATUS_NAMES[error.code] ?? String(error.code);
        resolve({ ok: false, code, details: error.details });
      } else {
        resolve({ ok: true, code: "OK", reply });
      }
    });
  });
}

async function main() {
  const address = process.argv[2];
  if (!address) {
    process.stderr.write("usage: node client.mjs HOST:PORT\n");
    return 2;
  }
  const services = loadServices();
  const credentials = grpc.credentials.createInsecure();
  const healthClient = new services.health.Health(address, credentials);
  const credentialClient = new services.integration.CredentialService(address, credentials);

  const metadata = new grpc.Metadata();
  const token = process.env.INTEGRATION_API_TOKEN;
  if (token) {
    metadata.set("authorization", `Bearer ${token}`);
  }
  try {
    const health = await unaryCall(healthClient, "Check", { service: "" }, new grpc.Metadata());
    const listCredentials = await unaryCall(
      credentialClient,
      "ListCredentials",
      { page_size: 10 },
      metadata,
    );
    process.stdout.write(`${JSON.stringify({ health, listCredentials })}\n`);
  } finally {
    healthClient.close();
    credentialClient.close();
  }
  return 0;
}

process.exitCode = await main();
