// Drive a running emulator through the official TypeScript SDK: every Managed Agents method the
// emulator serves, with the SDK's own request building, pagination, SSE parsing and uploads.
// Usage: node drive_emulator.mjs BASE_URL
// Prints one line per call, `ok <family>.<method>`, or `skip <family>: <reason>` for a family the
// emulator does not serve (404 on its list route); exits 1 on the first failure.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Anthropic, { toFile } from "@anthropic-ai/sdk";

const client = new Anthropic({ baseURL: process.argv[2], apiKey: "sk-ts-sdk", maxRetries: 0, timeout: 30_000 });
const beta = client.beta;

async function ok(name, promise) {
  const value = await promise;
  console.log(`ok ${name}`);
  return value;
}

async function all(name, pagePromise) {
  // Iterate every page (the SDK follows next_page itself).
  const items = [];
  for await (const item of pagePromise) items.push(item);
  console.log(`ok ${name}`);
  return items;
}

async function served(family, listCall) {
  try {
    await listCall();
    return true;
  } catch (err) {
    if (err instanceof Anthropic.NotFoundError && /^Not found: /.test(err.error?.error?.message ?? "")) {
      console.log(`skip ${family}: not served by this emulator`);
      return false;
    }
    throw err;
  }
}

// A session turn read live: open the stream, send, read until idle.
async function turn(sessionId, text) {
  const stream = await beta.sessions.events.stream(sessionId, { event_deltas: ["agent.message"] });
  await ok("sessions.events.send", beta.sessions.events.send(sessionId, {
    events: [{ type: "user.message", content: [{ type: "text", text }] }],
  }));
  const seen = [];
  for await (const event of stream) {
    seen.push(event);
    if (event.type === "session.status_idle" || event.type === "session.status_terminated") break;
  }
  console.log("ok sessions.events.stream");
  return seen;
}

async function agentsAndEnvironments() {
  const agent = await ok("agents.create", beta.agents.create({
    name: "ts-sdk", model: "claude-sonnet-4-6", metadata: { emulator_brain: "echo" },
    tools: [{ type: "agent_toolset_20260401", configs: [{ name: "web_fetch", enabled: false }] }],
  }));
  assert.equal(agent.version, 1);
  const webFetch = agent.tools[0].configs.find((c) => c.name === "web_fetch");
  assert.ok("url_sources" in webFetch, "web_fetch config lacks url_sources");
  await ok("agents.retrieve", beta.agents.retrieve(agent.id));
  const updated = await ok("agents.update", beta.agents.update(agent.id, { version: 1, description: "d" }));
  assert.equal(updated.version, 2);
  assert.ok((await all("agents.list", beta.agents.list({ limit: 1 }))).some((a) => a.id === agent.id));
  assert.equal((await all("agents.versions.list", beta.agents.versions.list(agent.id))).length, 2);

  const env = await ok("environments.create", beta.environments.create({ name: `ts-env-${Date.now()}` }));
  await ok("environments.retrieve", beta.environments.retrieve(env.id));
  await ok("environments.update", beta.environments.update(env.id, { description: "x" }));
  await all("environments.list", beta.environments.list());
  return { agent, env };
}

async function filesAndSessions({ agent, env }) {
  const file = await ok("files.upload", beta.files.upload({
    file: await toFile(Buffer.from("a,b\n1,2\n"), "df.csv", { type: "text/csv" }),
  }));
  await ok("files.retrieveMetadata", beta.files.retrieveMetadata(file.id));

  const session = await ok("sessions.create", beta.sessions.create({
    agent: agent.id, environment_id: env.id, title: "ts",
    resources: [{ type: "file", file_id: file.id, mount_path: "/df.csv" }],
  }));
  await ok("sessions.retrieve", beta.sessions.retrieve(session.id));
  await ok("sessions.update", beta.sessions.update(session.id, { title: "ts2" }));
  await all("sessions.list", beta.sessions.list());
  const resources = await all("sessions.resources.list", beta.sessions.resources.list(session.id));
  const added = await ok("sessions.resources.add", beta.sessions.resources.add(session.id, { type: "file", file_id: file.id }));
  await ok("sessions.resources.retrieve", beta.sessions.resources.retrieve(added.id, { session_id: session.id }));
  await ok("sessions.resources.delete", beta.sessions.resources.delete(added.id, { session_id: session.id }));
  assert.equal(resources.length, 1);
  // A repository (a local directory: nothing is cloned from the network offline) takes a new token.
  const repoDir = fs.mkdtempSync(path.join(os.tmpdir(), "ts-repo-"));
  fs.writeFileSync(path.join(repoDir, "README.md"), "hi");
  const withRepo = await beta.sessions.create({
    agent: agent.id, environment_id: env.id,
    resources: [{ type: "github_repository", url: `file://${repoDir}`, authorization_token: "ghp_first" }],
  });
  const repo = withRepo.resources[0];
  const rotated = await ok("sessions.resources.update",
    beta.sessions.resources.update(repo.id, { session_id: withRepo.id, authorization_token: "ghp_second" }));
  assert.equal(rotated.id, repo.id);
  await beta.sessions.delete(withRepo.id);
  fs.rmSync(repoDir, { recursive: true, force: true });

  const events = await turn(session.id, "hello from typescript");
  const idle = events.at(-1);
  assert.equal(idle.type, "session.status_idle");
  assert.ok("stop_details" in idle, "session.status_idle lacks stop_details");
  assert.ok(events.some((e) => e.type === "event_delta"));
  const listed = await all("sessions.events.list", beta.sessions.events.list(session.id));
  assert.equal(listed.find((e) => e.type === "agent.message").content[0].text, "hello from typescript");

  // A scenario turn runs the built-in tools and writes /mnt/session/outputs/report.md.
  const toolTurn = await turn(session.id, "[[emulator: scenario tools]]\nmake the report");
  assert.ok(toolTurn.some((e) => e.type === "agent.tool_result"));
  const scoped = await all("files.list", beta.files.list({ scope_id: session.id, betas: ["managed-agents-2026-04-01"] }));
  const report = scoped.find((f) => f.filename === "report.md");
  assert.ok(report && report.downloadable, "report.md is not listed as a downloadable output");
  const text = await (await ok("files.download", beta.files.download(report.id))).text();
  assert.match(text, /revenue: 43/);

  const threads = await all("sessions.threads.list", beta.sessions.threads.list(session.id));
  assert.ok(threads.length >= 1);
  const thread = threads[0];
  await ok("sessions.threads.retrieve", beta.sessions.threads.retrieve(thread.id, { session_id: session.id }));
  await all("sessions.threads.events.list", beta.sessions.threads.events.list(thread.id, { session_id: session.id }));
  const threadStream = await ok("sessions.threads.events.stream",
    beta.sessions.threads.events.stream(thread.id, { session_id: session.id }));
  threadStream.controller.abort();

  await ok("sessions.archive", beta.sessions.archive(session.id));
  await ok("sessions.delete", beta.sessions.delete(session.id));
  await ok("files.delete", beta.files.delete(file.id));
  await ok("agents.archive", beta.agents.archive(agent.id));
  await ok("environments.archive", beta.environments.archive(env.id));
  await ok("environments.delete", beta.environments.delete(env.id));
}

async function work() {
  const agent = await beta.agents.create({
    name: "ts-worker", model: "claude-sonnet-4-6", tools: [{ type: "agent_toolset_20260401" }],
    metadata: { emulator_brain: "echo" },
  });
  const env = await beta.environments.create({ name: `ts-self-${Date.now()}`, config: { type: "self_hosted" } });
  const session = await beta.sessions.create({ agent: agent.id, environment_id: env.id });
  await ok("environments.work.stats", beta.environments.work.stats(env.id));
  const item = await ok("environments.work.poll", beta.environments.work.poll(env.id, { block_ms: 100 }));
  assert.equal(item.data.id, session.id);
  await all("environments.work.list", beta.environments.work.list(env.id));
  await ok("environments.work.retrieve", beta.environments.work.retrieve(item.id, { environment_id: env.id }));
  await ok("environments.work.ack", beta.environments.work.ack(item.id, { environment_id: env.id }));
  await ok("environments.work.heartbeat", beta.environments.work.heartbeat(item.id, {
    environment_id: env.id, expected_last_heartbeat: "NO_HEARTBEAT",
  }));
  await ok("environments.work.update", beta.environments.work.update(item.id, {
    environment_id: env.id, metadata: { k: "v" },
  }));
  await ok("environments.work.stop", beta.environments.work.stop(item.id, { environment_id: env.id }));
}

async function memoryStores() {
  if (!beta.memoryStores || !(await served("memory_stores", () => beta.memoryStores.list()))) return null;
  const store = await ok("memory_stores.create", beta.memoryStores.create({ name: "ts-notes" }));
  await ok("memory_stores.retrieve", beta.memoryStores.retrieve(store.id));
  await ok("memory_stores.update", beta.memoryStores.update(store.id, { description: "d" }));
  await all("memory_stores.list", beta.memoryStores.list());
  const memory = await ok("memory_stores.memories.create",
    beta.memoryStores.memories.create(store.id, { path: "/notes.md", content: "hello" }));
  await ok("memory_stores.memories.retrieve", beta.memoryStores.memories.retrieve(memory.id, { memory_store_id: store.id }));
  await ok("memory_stores.memories.update",
    beta.memoryStores.memories.update(memory.id, { memory_store_id: store.id, content: "hello again" }));
  await all("memory_stores.memories.list", beta.memoryStores.memories.list(store.id));
  const versions = await all("memory_stores.memory_versions.list", beta.memoryStores.memoryVersions.list(store.id));
  const older = versions.find((v) => v.operation === "created") ?? versions[0];
  await ok("memory_stores.memory_versions.retrieve",
    beta.memoryStores.memoryVersions.retrieve(older.id, { memory_store_id: store.id }));
  const redacted = await ok("memory_stores.memory_versions.redact",
    beta.memoryStores.memoryVersions.redact(older.id, { memory_store_id: store.id }));
  assert.ok(redacted.redacted_at, "a redacted version has redacted_at");
  await ok("memory_stores.memories.delete", beta.memoryStores.memories.delete(memory.id, { memory_store_id: store.id }));
  return store;
}

async function vaults() {
  if (!beta.vaults || !(await served("vaults", () => beta.vaults.list()))) return;
  const vault = await ok("vaults.create", beta.vaults.create({ display_name: "ts-vault" }));
  await ok("vaults.retrieve", beta.vaults.retrieve(vault.id));
  await ok("vaults.update", beta.vaults.update(vault.id, { display_name: "ts-vault-2" }));
  await all("vaults.list", beta.vaults.list());
  const cred = await ok("vaults.credentials.create", beta.vaults.credentials.create(vault.id, {
    display_name: "docs", auth: { type: "static_bearer", mcp_server_url: "https://docs.test/mcp", token: "sk-ts-secret" },
  }));
  assert.ok(!JSON.stringify(cred).includes("sk-ts-secret"), "a credential echoes its secret");
  await ok("vaults.credentials.retrieve", beta.vaults.credentials.retrieve(cred.id, { vault_id: vault.id }));
  await ok("vaults.credentials.update", beta.vaults.credentials.update(cred.id, { vault_id: vault.id, display_name: "docs-2" }));
  await all("vaults.credentials.list", beta.vaults.credentials.list(vault.id));
  const oauth = await beta.vaults.credentials.create(vault.id, {
    auth: {
      type: "mcp_oauth", mcp_server_url: "https://tickets.test/mcp", access_token: "sk-ts-access",
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
    },
  });
  await ok("vaults.credentials.mcpOAuthValidate", beta.vaults.credentials.mcpOAuthValidate(oauth.id, { vault_id: vault.id }));
  await ok("vaults.credentials.archive", beta.vaults.credentials.archive(cred.id, { vault_id: vault.id }));
  await ok("vaults.credentials.delete", beta.vaults.credentials.delete(cred.id, { vault_id: vault.id }));
  await ok("vaults.archive", beta.vaults.archive(vault.id));
  await ok("vaults.delete", beta.vaults.delete(vault.id));
}

async function deploymentsAndDreams(store) {
  if (!beta.deployments || !(await served("deployments", () => beta.deployments.list()))) return;
  const agent = await beta.agents.create({ name: "ts-deployed", model: "claude-sonnet-4-6", metadata: { emulator_brain: "echo" } });
  const env = await beta.environments.create({ name: `ts-deploy-${Date.now()}` });
  const hello = [{ type: "user.message", content: [{ type: "text", text: "hello from a deployment" }] }];
  const dep = await ok("deployments.create", beta.deployments.create({
    name: "ts-nightly", agent: agent.id, environment_id: env.id, initial_events: hello,
  }));
  await ok("deployments.retrieve", beta.deployments.retrieve(dep.id));
  await ok("deployments.update", beta.deployments.update(dep.id, { description: "d" }));
  await all("deployments.list", beta.deployments.list());
  const run = await ok("deployments.run", beta.deployments.run(dep.id));
  await ok("deployment_runs.retrieve", beta.deploymentRuns.retrieve(run.id));
  await all("deployment_runs.list", beta.deploymentRuns.list());
  await ok("deployments.pause", beta.deployments.pause(dep.id));
  await ok("deployments.unpause", beta.deployments.unpause(dep.id));
  await ok("deployments.archive", beta.deployments.archive(dep.id));

  if (!beta.dreams || !store || !(await served("dreams", () => beta.dreams.list()))) return;
  const session = await beta.sessions.create({ agent: agent.id, environment_id: env.id });
  await turn(session.id, "something to remember");
  const dream = await ok("dreams.create", beta.dreams.create({
    inputs: [{ type: "memory_store", memory_store_id: store.id }, { type: "sessions", session_ids: [session.id] }],
    model: "claude-opus-4-8",
  }));
  await ok("dreams.retrieve", beta.dreams.retrieve(dream.id));
  await all("dreams.list", beta.dreams.list());
  let final = await beta.dreams.retrieve(dream.id);
  if (!["completed", "failed", "canceled"].includes(final.status)) {
    final = await ok("dreams.cancel", beta.dreams.cancel(dream.id));
  }
  await ok("dreams.archive", beta.dreams.archive(dream.id));
}

try {
  const made = await agentsAndEnvironments();
  await filesAndSessions(made);
  await work();
  const store = await memoryStores();
  await vaults();
  await deploymentsAndDreams(store);
  if (store) {
    await ok("memory_stores.archive", beta.memoryStores.archive(store.id));
    await ok("memory_stores.delete", beta.memoryStores.delete(store.id));
  }
} catch (err) {
  console.log(`FAILED: ${err?.stack ?? err}`);
  process.exit(1);
}
