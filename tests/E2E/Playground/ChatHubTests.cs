using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using WebConsole.Domain.Usage;
using WebConsole.E2E.Infrastructure;
using WebConsole.Tests.Shared.Node;
using WebConsole.Web.Apis.Playground;
using Xunit.Abstractions;

namespace WebConsole.E2E.Playground;

/// <summary>
/// The chat hub with the real .NET and JavaScript SignalR clients against a real server and generated decoders: tokens
/// stream as they are made and end with the usage the ledger holds; a client's cancellation stops the generation, frees
/// its allocation and bills the partial output; strangers and other tenants are refused with typed errors.
/// </summary>
[Collection(PlaygroundCollection.Name)]
public sealed class ChatHubTests(PlaygroundServer fixture, ITestOutputHelper output)
{
    private static readonly ChatStreamMessage[] Conversation =
        [new("system", "Answer briefly."), new("user", "Tell me a story about the sea.")];

    [Fact]
    public async Task The_dotnet_client_streams_tokens_as_they_arrive_and_ends_with_the_usage_the_ledger_bills()
    {
        var known = await fixture.KnownRequestsAsync();
        await using var connection = await HubClients.ConnectWithKeyAsync(fixture.Server.BaseAddress, ServerFixture.BootstrapApiKey);
        var items = new List<ChatStreamChunk>();
        await foreach (var item in connection.StreamAsync<ChatStreamChunk>("StreamChat",
            new ChatStreamRequest { InferenceId = PlaygroundServer.Chat, Messages = Conversation, MaxCompletionTokens = 12, Temperature = 0.7, Seed = 7 }))
        {
            items.Add(item);
        }

        var deltas = items.Where(i => i.Delta is { Length: > 0 }).ToList();
        Assert.True(deltas.Count >= 3, $"{deltas.Count} deltas: {string.Join("|", deltas.Select(d => d.Delta))}");
        Assert.Equal(PlaygroundServer.ChatModel, items[0].Model);
        var usage = Assert.Single(items, i => i.Usage is not null).Usage!;
        Assert.Same(usage, items[^1].Usage);
        Assert.InRange(usage.OutputTokens, deltas.Count, 12);
        Assert.True(usage.InputTokens > 0 && usage.Cost > 0, usage.ToString());

        // The ledger holds the same usage, under the hub's surface, once.
        var record = await fixture.WaitForRecordAsync(PlaygroundServer.Chat, known, r => r.Outcome != UsageOutcome.InProgress);
        Assert.Equal((Surface.Hub, UsageOutcome.Succeeded, usage.InputTokens, usage.OutputTokens, usage.Cost),
            (record.Surface, record.Outcome, record.InputTokens, record.OutputTokens, record.Cost));
    }

    [Fact]
    public async Task Cancelling_mid_stream_stops_the_generation_frees_the_allocation_and_bills_the_partial_output()
    {
        var known = await fixture.KnownRequestsAsync();
        await using var connection = await HubClients.ConnectWithKeyAsync(fixture.Server.BaseAddress, ServerFixture.BootstrapApiKey, "Bearer");
        using var cut = new CancellationTokenSource();
        var received = 0;
        try
        {
            await foreach (var item in connection.StreamAsync<ChatStreamChunk>("StreamChat",
                new ChatStreamRequest { InferenceId = PlaygroundServer.SlowChat, Messages = Conversation, MaxCompletionTokens = 1900 }, cut.Token))
            {
                Assert.Null(item.Usage);
                if (item.Delta is { Length: > 0 } && ++received == 4)
                {
                    await cut.CancelAsync();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The client's own cancellation.
        }

        // The server stops generating and bills what it made: at least what arrived, far less than the 1900 asked for.
        var clock = Stopwatch.StartNew();
        var ended = await fixture.WaitForRecordAsync(PlaygroundServer.SlowChat, known, r => r.Outcome != UsageOutcome.InProgress);
        output.WriteLine($"{received} deltas received; billed {ended.InputTokens}+{ended.OutputTokens} tokens, {ended.Cost}, settled after {clock.ElapsedMilliseconds} ms");
        Assert.Equal((Surface.Hub, UsageOutcome.Cancelled), (ended.Surface, ended.Outcome));
        Assert.InRange(ended.OutputTokens, received, 200);
        Assert.Equal(Math.Round((ended.InputTokens * 1.5m / 1_000_000m) + (ended.OutputTokens * 4m / 1_000_000m), UsageRecord.CostDecimals, MidpointRounding.ToEven), ended.Cost);

        // Its only allocation is free again: the next stream on it starts at once rather than after the first one's 1900 tokens.
        var next = Stopwatch.StartNew();
        await foreach (var item in connection.StreamAsync<ChatStreamChunk>("StreamChat",
            new ChatStreamRequest { InferenceId = PlaygroundServer.SlowChat, Messages = Conversation, MaxCompletionTokens = 2 }))
        {
            Assert.True(next.Elapsed < TimeSpan.FromSeconds(20), $"the next stream waited {next.Elapsed}");
        }
    }

    [Fact]
    public async Task Strangers_are_refused_and_errors_arrive_as_typed_hub_errors_another_tenant_sees_no_endpoint()
    {
        var hub = new Uri(fixture.Server.BaseAddress, "/hubs/chat");
        var anonymous = await Assert.ThrowsAnyAsync<WebSocketException>(() => HubClients.ConnectAsync(hub));
        output.WriteLine(anonymous.Message);
        var wrongKey = Convert.ToBase64String("bootstrap:wrong-secret"u8.ToArray());
        await Assert.ThrowsAnyAsync<WebSocketException>(() => HubClients.ConnectWithKeyAsync(fixture.Server.BaseAddress, wrongKey));

        await using var connection = await HubClients.ConnectWithKeyAsync(fixture.Server.BaseAddress, ServerFixture.BootstrapApiKey);
        var missing = await StreamErrorAsync(connection, new ChatStreamRequest { InferenceId = "no-such-endpoint", Messages = Conversation });
        Assert.Equal((404, "resource_not_found_exception", "Inference endpoint not found [no-such-endpoint]"), (missing.Status, missing.Type, missing.Reason));
        var invalid = await StreamErrorAsync(connection, new ChatStreamRequest { InferenceId = PlaygroundServer.Chat, Messages = Conversation, MaxCompletionTokens = 0 });
        Assert.Equal((400, "status_exception"), (invalid.Status, invalid.Type));
        Assert.Contains("max_completion_tokens", invalid.Reason, StringComparison.Ordinal);

        // Another organization's admin key authenticates, but the first organization's endpoint does not exist for it.
        using var operatorClient = fixture.Server.CreateApiKeyClient();
        var otherKey = await OtherOrganizations.CreateAdminKeyAsync(fixture.Server, operatorClient, "pg-other");
        await using var other = await HubClients.ConnectWithKeyAsync(fixture.Server.BaseAddress, otherKey);
        var hidden = await StreamErrorAsync(other, new ChatStreamRequest { InferenceId = PlaygroundServer.Chat, Messages = Conversation });
        Assert.Equal((404, $"Inference endpoint not found [{PlaygroundServer.Chat}]"), (hidden.Status, hidden.Reason));
    }

    [Fact]
    public async Task The_access_token_query_of_browser_clients_authenticates_and_the_key_is_never_logged()
    {
        var hub = new Uri(fixture.Server.BaseAddress, $"/hubs/chat?access_token={Uri.EscapeDataString(ServerFixture.BootstrapApiKey)}");
        await using var connection = await HubClients.ConnectAsync(hub);
        var text = string.Empty;
        await foreach (var item in connection.StreamAsync<ChatStreamChunk>("StreamChat",
            new ChatStreamRequest { InferenceId = PlaygroundServer.Completion, Messages = Conversation, MaxCompletionTokens = 4 }))
        {
            text += item.Delta;
        }

        Assert.NotEmpty(text);
        Assert.DoesNotContain(ServerFixture.BootstrapSecret, fixture.Server.Log, StringComparison.Ordinal);
        Assert.DoesNotContain(ServerFixture.BootstrapApiKey, fixture.Server.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_javascript_client_streams_cancels_and_is_refused_without_credentials()
    {
        var known = await fixture.KnownRequestsAsync();
        var report = JsonDocument.Parse(await NodeTools.RunAsync("signalr-client.mjs", [], JsonSerializer.Serialize(new
        {
            url = fixture.Server.BaseAddress.ToString().TrimEnd('/'),
            apiKey = ServerFixture.BootstrapApiKey,
            chat = new { inferenceId = PlaygroundServer.Chat, maxCompletionTokens = 10 },
            slow = new { inferenceId = PlaygroundServer.SlowChat, cutAfter = 3 },
        }), TimeSpan.FromMinutes(3))).RootElement;
        output.WriteLine(report.ToString());

        var stream = report.GetProperty("stream");
        Assert.True(stream.GetProperty("ok").GetBoolean(), stream.ToString());
        var items = stream.GetProperty("items").EnumerateArray().ToList();
        var deltas = items.Where(i => i.TryGetProperty("delta", out var d) && d.ValueKind == JsonValueKind.String && d.GetString()!.Length > 0).ToList();
        Assert.True(deltas.Count >= 3, stream.ToString());
        var usage = items[^1].GetProperty("usage");
        Assert.InRange(usage.GetProperty("outputTokens").GetInt64(), deltas.Count, 10);
        Assert.True(usage.GetProperty("cost").GetDecimal() > 0);

        var cancel = report.GetProperty("cancel");
        Assert.True(cancel.GetProperty("ok").GetBoolean(), cancel.ToString());
        var cut = await fixture.WaitForRecordAsync(PlaygroundServer.SlowChat, known, r => r.Outcome != UsageOutcome.InProgress);
        Assert.Equal(UsageOutcome.Cancelled, cut.Outcome);
        Assert.InRange(cut.OutputTokens, 3, 200);

        var anonymous = report.GetProperty("anonymous");
        Assert.False(anonymous.GetProperty("ok").GetBoolean());
        Assert.Contains("401", anonymous.GetProperty("error").GetString(), StringComparison.Ordinal);
        var missing = report.GetProperty("missing");
        Assert.False(missing.GetProperty("ok").GetBoolean());
        var error = ChatStreamError.Parse(missing.GetProperty("error").GetString()!);
        Assert.Equal(404, error?.Status);
    }

    private static async Task<ChatStreamError> StreamErrorAsync(HubConnection connection, ChatStreamRequest request)
    {
        var error = await Assert.ThrowsAsync<HubException>(async () =>
        {
            await foreach (var _ in connection.StreamAsync<ChatStreamChunk>("StreamChat", request))
            {
            }
        });
        return ChatStreamError.Parse(error.Message) ?? throw new Xunit.Sdk.XunitException($"not a typed error: {error.Message}");
    }
}
