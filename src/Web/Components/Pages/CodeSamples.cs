using System.Text.Json;
using System.Text.Json.Nodes;
using WebConsole.Web.Apis.Playground;

namespace WebConsole.Web.Components.Pages;

/// <summary>
/// The playground's "view code": the request on screen as curl, the Elasticsearch and OpenAI JavaScript clients and the
/// SignalR JavaScript client. The API key is read from <c>WEBCONSOLE_API_KEY</c>, never written into a sample.
/// </summary>
internal static class CodeSamples
{
    public const string Curl = "curl";
    public const string Elasticsearch = "Elasticsearch client";
    public const string OpenAi = "OpenAI client";
    public const string SignalR = "SignalR client";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    // The hub's JSON protocol: camelCase names, nulls left out.
    private static readonly JsonSerializerOptions HubJson = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public static IReadOnlyList<string> Languages { get; } = [Curl, Elasticsearch, OpenAi, SignalR];

    public static string For(string language, string baseUrl, ChatStreamRequest request, string taskType)
    {
        var url = baseUrl.TrimEnd('/');
        var chat = taskType != "completion";
        var id = request.InferenceId;

        // Elasticsearch's chat body has no seed; the OpenAI and SignalR samples carry it.
        var esBody = chat ? ChatStreaming.ChatBody(request) : new JsonObject { ["input"] = SafeInput(request) };
        esBody.Remove("seed");
        return language switch
        {
            Curl => $"""
                curl -N -X POST "{url}/_inference/{taskType}/{id}/_stream" \
                  -H "Authorization: ApiKey $WEBCONSOLE_API_KEY" \
                  -H "Content-Type: application/json" \
                  -d '{esBody.ToJsonString().Replace("'", "'\\''", StringComparison.Ordinal)}'
                """,
            Elasticsearch => chat
                ? $$"""
                import { Client } from "@elastic/elasticsearch";

                const client = new Client({ node: "{{url}}", auth: { apiKey: process.env.WEBCONSOLE_API_KEY } });
                const stream = await client.inference.chatCompletionUnified(
                  { inference_id: "{{id}}", chat_completion_request: {{Json(esBody)}} },
                  { asStream: true });
                for await (const chunk of stream) process.stdout.write(chunk.toString());
                """
                : $$"""
                import { Client } from "@elastic/elasticsearch";

                const client = new Client({ node: "{{url}}", auth: { apiKey: process.env.WEBCONSOLE_API_KEY } });
                const stream = await client.inference.streamCompletion({ inference_id: "{{id}}", {{Json(esBody)[1..^1].Trim()}} }, { asStream: true });
                for await (const chunk of stream) process.stdout.write(chunk.toString());
                """,
            OpenAi => $$"""
                import OpenAI from "openai";

                const openai = new OpenAI({ baseURL: "{{url}}/v1", apiKey: process.env.WEBCONSOLE_API_KEY });
                const stream = await openai.chat.completions.create({ model: "{{id}}", stream: true, ...{{Json(ChatStreaming.ChatBody(request))}} });
                for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta?.content ?? "");
                """,
            _ => $$"""
                import * as signalR from "@microsoft/signalr";

                const connection = new signalR.HubConnectionBuilder()
                  .withUrl("{{url}}{{ChatHub.Path}}", { accessTokenFactory: () => process.env.WEBCONSOLE_API_KEY })
                  .build();
                await connection.start();
                connection.stream("StreamChat", {{JsonSerializer.Serialize(request, HubJson)}}).subscribe({
                  next: chunk => chunk.delta && process.stdout.write(chunk.delta),
                  complete: () => connection.stop(),
                  error: err => { console.error(err.message); connection.stop(); },
                });
                """,
        };
    }

    private static string SafeInput(ChatStreamRequest request) =>
        request.Messages.Any(m => m.Role == "user") ? ChatStreaming.CompletionInput(request) : string.Empty;

    private static string Json(JsonNode node) => node.ToJsonString(Indented);
}
