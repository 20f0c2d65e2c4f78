// Issue 23 item 7: Node clients against the proxy (emulator-backed), one process for every scenario.
// Usage: node clients.mjs <proxy base url> <emulator url>. Prints one JSON line per scenario:
// {"client": ..., "feature": ..., "ok": true|false, "detail": ...}; tests/proxy/test_clients_node.py asserts them.
import OpenAI from "openai";
import { generateText, streamText, tool, stepCountIs, Output, APICallError } from "ai";
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { ChatOpenAI } from "@langchain/openai";
import { tool as lcTool } from "@langchain/core/tools";
import { z } from "zod";

const [proxy, emulator] = process.argv.slice(2);
const baseURL = `${proxy}/v1`;
const SM = "gpt-oss-20b"; // SageMaker route (vLLM): reasoning returns to the model on tool steps
const BR = "gpt-oss-120b"; // Bedrock route

async function stats() {
  return (await fetch(`${emulator}/_stats`)).json();
}
function lastBody(s) {
  return s.model_requests[s.model_requests.length - 1].body;
}
async function run(client, feature, fn) {
  try {
    const detail = await fn();
    console.log(JSON.stringify({ client, feature, ok: true, detail: detail ?? null }));
  } catch (err) {
    console.log(JSON.stringify({ client, feature, ok: false, detail: String(err?.stack || err) }));
  }
}
function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

const weatherSchema = z.object({ city: z.string() });
const forecast = z.object({ city: z.string(), readings: z.array(z.number()) });

// ---- openai-node ---------------------------------------------------------------------------------------
const oa = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0 });
await run("openai-node", "chat", async () => {
  const r = await oa.chat.completions.create({ model: BR, messages: [{ role: "user", content: "hello" }] });
  check(r.choices[0].message.content === "Echo: hello", r.choices[0].message.content);
});
await run("openai-node", "stream", async () => {
  const s = await oa.chat.completions.create({ model: SM, messages: [{ role: "user", content: "hello" }], stream: true, stream_options: { include_usage: true } });
  let text = "", usage = null;
  for await (const c of s) { text += c.choices[0]?.delta?.content ?? ""; usage = c.usage ?? usage; }
  check(text === "Echo: hello" && usage?.completion_tokens > 0, text);
});
await run("openai-node", "tool loop", async () => {
  const tools = [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }];
  const messages = [{ role: "user", content: "Weather in Paris?" }];
  const first = await oa.chat.completions.create({ model: SM, messages, tools });
  const msg = first.choices[0].message;
  check(msg.tool_calls?.length === 1, "a tool call");
  messages.push(msg, { role: "tool", tool_call_id: msg.tool_calls[0].id, content: "sunny" });
  const second = await oa.chat.completions.create({ model: SM, messages, tools });
  check(second.choices[0].message.content === "The tool said: sunny", second.choices[0].message.content);
  // the SDK sends reasoning_content back as it came: the proxy keeps it on the tool-call step
  const sent = lastBody(await stats()).messages.find((m) => m.role === "assistant");
  check(sent.reasoning && sent.reasoning === msg.reasoning_content, "reasoning_content returned to the model");
});
await run("openai-node", "responses tool loop + reasoning round trip", async () => {
  const tools = [{ type: "function", name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } }];
  const input = [{ role: "user", content: "Weather in Paris?" }];
  const first = await oa.responses.create({ model: SM, input, tools, store: false, include: ["reasoning.encrypted_content"] });
  const rs = first.output.find((o) => o.type === "reasoning");
  const call = first.output.find((o) => o.type === "function_call");
  check(rs.encrypted_content && call, "encrypted reasoning and a call");
  const second = await oa.responses.create({
    model: SM, tools, store: false,
    input: [...input, { type: "reasoning", id: rs.id, summary: [], encrypted_content: rs.encrypted_content }, call, { type: "function_call_output", call_id: call.call_id, output: "sunny" }],
  });
  check(second.output_text === "The tool said: sunny", second.output_text);
  const sent = lastBody(await stats()).messages.find((m) => m.role === "assistant");
  check(sent.reasoning === rs.content[0].text, "decrypted reasoning reached the model");
});
await run("openai-node", "structured output", async () => {
  const r = await oa.chat.completions.create({
    model: SM, messages: [{ role: "user", content: "Forecast for Paris" }],
    response_format: { type: "json_schema", json_schema: { name: "forecast", schema: z.toJSONSchema(forecast) } },
  });
  forecast.parse(JSON.parse(r.choices[0].message.content));
});
await run("openai-node", "errors", async () => {
  try {
    await oa.chat.completions.create({ model: "nope", messages: [{ role: "user", content: "hi" }] });
  } catch (err) {
    check(err instanceof OpenAI.NotFoundError && err.code === "model_not_found", `${err.constructor.name} ${err.code}`);
    return;
  }
  throw new Error("no error");
});
await run("openai-node", "legacy completions", async () => {
  const r = await oa.completions.create({ model: SM, prompt: "Once", max_tokens: 20 });
  check(r.choices[0].text === "Echo: Once", r.choices[0].text);
});

// ---- Vercel AI SDK: @ai-sdk/openai Responses (openai(model)) and Chat (openai.chat(model)) ---------------
const sentBodies = []; // what the AI SDK puts on the wire (to confirm the shapes read in its source)
const recording = async (url, init) => {
  if (init?.body) sentBodies.push(JSON.parse(init.body));
  return fetch(url, init);
};
const provider = createOpenAI({ baseURL, apiKey: "unused", fetch: recording });
const weather = tool({ description: "Weather for a city", inputSchema: weatherSchema, execute: async ({ city }) => `sunny in ${city}` });

await run("ai-sdk responses", "chat", async () => {
  const r = await generateText({ model: provider(BR), prompt: "hello", maxRetries: 0 });
  check(r.text === "Echo: hello", r.text);
});
await run("ai-sdk responses", "stream", async () => {
  const r = streamText({ model: provider(SM), prompt: "hello", maxRetries: 0 });
  let text = "";
  for await (const t of r.textStream) text += t;
  check(text === "Echo: hello", text);
});
await run("ai-sdk responses", "tool loop (store omitted: item_reference)", async () => {
  const r = await generateText({ model: provider(SM), prompt: "Weather in Paris?", tools: { get_weather: weather }, stopWhen: stepCountIs(3), maxRetries: 0 });
  check(r.steps.length === 2 && r.text.startsWith("The tool said"), `${r.steps.length} steps: ${r.text}`);
  const step2 = sentBodies[sentBodies.length - 1];
  check(!("store" in step2) || step2.store === true, "store left to its default");
  const refs = step2.input.filter((i) => i.type === "item_reference").map((i) => i.id);
  check(refs.length > 0 && refs.every((id) => id.startsWith("rs_")), `item references ${refs}`);
  return { steps: r.steps.length, item_references: refs.length };
});
await run("ai-sdk responses", "tool loop + reasoning round trip (store false)", async () => {
  const r = await generateText({
    model: provider(SM), prompt: "Weather in Paris?", tools: { get_weather: weather }, stopWhen: stepCountIs(3), maxRetries: 0,
    providerOptions: { openai: { store: false, forceReasoning: true, reasoningSummary: "auto" } },
  });
  check(r.steps.length === 2 && r.text.startsWith("The tool said"), r.text);
  const step2 = sentBodies[sentBodies.length - 1];
  check(step2.store === false && step2.include.includes("reasoning.encrypted_content"), "store false + include");
  check(step2.input.some((i) => i.type === "reasoning" && i.encrypted_content), "the reasoning item comes back encrypted");
  const s = await stats();
  const bodies = s.model_requests.slice(-2).map((m) => m.body);
  const sent = bodies[1].messages.find((m) => m.role === "assistant");
  check(sent.reasoning && sent.reasoning.length > 10, "reasoning of step 1 reached the model in step 2");
  check(r.steps[0].reasoningText?.length > 0, "the SDK shows the reasoning summary");
  return { reasoning_chars: sent.reasoning.length };
});
await run("ai-sdk responses", "structured output", async () => {
  const r = await generateText({ model: provider(SM), prompt: "Forecast for Paris", output: Output.object({ schema: forecast }), maxRetries: 0 });
  forecast.parse(r.output);
});
await run("ai-sdk responses", "errors", async () => {
  try {
    await generateText({ model: provider("nope"), prompt: "hi", maxRetries: 0 });
  } catch (err) {
    check(APICallError.isInstance(err) && err.statusCode === 404, `${err.constructor.name} ${err.statusCode}`);
    return;
  }
  throw new Error("no error");
});

await run("ai-sdk chat", "chat", async () => {
  const r = await generateText({ model: provider.chat(BR), prompt: "hello", maxRetries: 0 });
  check(r.text === "Echo: hello", r.text);
});
await run("ai-sdk chat", "stream", async () => {
  const r = streamText({ model: provider.chat(SM), prompt: "hello", maxRetries: 0 });
  let text = "";
  for await (const t of r.textStream) text += t;
  check(text === "Echo: hello", text);
});
await run("ai-sdk chat", "tool loop", async () => {
  const r = await generateText({ model: provider.chat(SM), prompt: "Weather in Paris?", tools: { get_weather: weather }, stopWhen: stepCountIs(3), maxRetries: 0 });
  check(r.steps.length === 2 && r.text.startsWith("The tool said"), r.text);
});
await run("ai-sdk chat", "structured output", async () => {
  const r = await generateText({ model: provider.chat(SM), prompt: "Forecast for Paris", output: Output.object({ schema: forecast }), maxRetries: 0 });
  forecast.parse(r.output);
});
await run("ai-sdk chat", "errors", async () => {
  try {
    await generateText({ model: provider.chat("nope"), prompt: "hi", maxRetries: 0 });
  } catch (err) {
    check(APICallError.isInstance(err) && err.statusCode === 404, `${err.constructor.name} ${err.statusCode}`);
    return;
  }
  throw new Error("no error");
});

// ---- @ai-sdk/openai-compatible -----------------------------------------------------------------------
// supportsStructuredOutputs: without it the provider drops the JSON schema (response_format json_object only)
const compat = createOpenAICompatible({ name: "gptoss", baseURL, apiKey: "unused", includeUsage: true, supportsStructuredOutputs: true });
await run("ai-sdk openai-compatible", "chat", async () => {
  const r = await generateText({ model: compat(BR), prompt: "hello", maxRetries: 0 });
  check(r.text === "Echo: hello" && r.reasoningText?.length > 0, r.text);
});
await run("ai-sdk openai-compatible", "stream", async () => {
  const r = streamText({ model: compat(SM), prompt: "hello", maxRetries: 0 });
  let text = "";
  for await (const t of r.textStream) text += t;
  check(text === "Echo: hello", text);
});
await run("ai-sdk openai-compatible", "tool loop", async () => {
  const r = await generateText({ model: compat(SM), prompt: "Weather in Paris?", tools: { get_weather: weather }, stopWhen: stepCountIs(3), maxRetries: 0 });
  check(r.steps.length === 2 && r.text.startsWith("The tool said"), r.text);
  const sent = lastBody(await stats()).messages.find((m) => m.role === "assistant");
  return { reasoning_returned: Boolean(sent.reasoning) };
});
await run("ai-sdk openai-compatible", "structured output", async () => {
  const r = await generateText({ model: compat(SM), prompt: "Forecast for Paris", output: Output.object({ schema: forecast }), maxRetries: 0 });
  forecast.parse(r.output);
});
await run("ai-sdk openai-compatible", "errors", async () => {
  try {
    await generateText({ model: compat("nope"), prompt: "hi", maxRetries: 0 });
  } catch (err) {
    check(APICallError.isInstance(err) && err.statusCode === 404, `${err.constructor.name} ${err.statusCode}`);
    return;
  }
  throw new Error("no error");
});

// ---- LangChain.js --------------------------------------------------------------------------------------
const lc = (model, extra = {}) => new ChatOpenAI({ model, apiKey: "unused", configuration: { baseURL }, maxRetries: 0, ...extra });
await run("langchain-js", "chat", async () => {
  const r = await lc(BR).invoke("hello");
  check(r.content === "Echo: hello", r.content);
});
await run("langchain-js", "stream", async () => {
  let text = "";
  for await (const c of await lc(SM).stream("hello")) text += c.content;
  check(text === "Echo: hello", text);
});
await run("langchain-js", "tool loop", async () => {
  const getWeather = lcTool(async ({ city }) => `sunny in ${city}`, { name: "get_weather", description: "Weather for a city", schema: weatherSchema });
  const model = lc(SM).bindTools([getWeather]);
  const messages = [{ role: "user", content: "Weather in Paris?" }];
  const first = await model.invoke(messages);
  check(first.tool_calls?.length === 1, "a tool call");
  const result = await getWeather.invoke(first.tool_calls[0]);
  const second = await model.invoke([...messages, first, result]);
  check(String(second.content).startsWith("The tool said: sunny"), second.content);
});
await run("langchain-js", "responses tool loop (useResponsesApi)", async () => {
  const getWeather = lcTool(async ({ city }) => `sunny in ${city}`, { name: "get_weather", description: "Weather for a city", schema: weatherSchema });
  const model = lc(SM, { useResponsesApi: true, zdrEnabled: true }).bindTools([getWeather]);
  const messages = [{ role: "user", content: "Weather in Paris?" }];
  const first = await model.invoke(messages);
  check(first.tool_calls?.length === 1, "a tool call");
  const result = await getWeather.invoke(first.tool_calls[0]);
  const second = await model.invoke([...messages, first, result]);
  check(JSON.stringify(second.content).includes("The tool said: sunny"), JSON.stringify(second.content));
});
await run("langchain-js", "structured output", async () => {
  const r = await lc(SM).withStructuredOutput(forecast).invoke("Forecast for Paris");
  forecast.parse(r);
});
await run("langchain-js", "errors", async () => {
  try {
    await lc("nope").invoke("hi");
  } catch (err) {
    check(err.status === 404 || err.lc_error_code === "MODEL_NOT_FOUND", `${err.constructor.name} ${err.status}`);
    return;
  }
  throw new Error("no error");
});
