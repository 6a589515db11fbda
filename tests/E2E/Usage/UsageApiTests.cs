using System.Globalization;
using System.Net;
using System.Text.Json;
using WebConsole.E2E.Inference;

namespace WebConsole.E2E.Usage;

/// <summary>
/// Real requests on a real server, then the usage API: the summary by endpoint adds up exactly the usage each answer
/// reported in its headers, and the CSV export has one row per request with the same tokens.
/// </summary>
public sealed class UsageApiTests(InferenceApiServer fixture) : IClassFixture<InferenceApiServer>
{
    [Fact]
    public async Task Summary_by_endpoint_and_csv_export_match_the_usage_reported_to_clients()
    {
        using var client = fixture.Client();
        var reported = new List<(string Endpoint, long Input, long Output)>();
        foreach (var input in new[] { "The quick brown fox", "jumps over the lazy dog again and again", "Bonjour" })
        {
            using var response = await client.PostAsync($"/_inference/text_embedding/{InferenceApiServer.Embedding}",
                InferenceApiServer.Json(new { input }));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
            reported.Add((InferenceApiServer.Embedding, Header(response, "x-webconsole-input-tokens"), Header(response, "x-webconsole-output-tokens")));
        }

        using (var chat = await client.PostAsync($"/_inference/chat_completion/{InferenceApiServer.Chat}",
                   InferenceApiServer.Json(new { messages = new[] { new { role = "user", content = "Hello" } }, max_completion_tokens = 4 })))
        {
            var text = await chat.Content.ReadAsStringAsync();
            Assert.True(chat.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
            reported.Add((InferenceApiServer.Chat, Header(chat, "x-webconsole-input-tokens"), Header(chat, "x-webconsole-output-tokens")));
        }

        using var summaryResponse = await client.GetAsync("/api/usage/summary?group_by=endpoint");
        var summaryText = await summaryResponse.Content.ReadAsStringAsync();
        Assert.True(summaryResponse.StatusCode == HttpStatusCode.OK, summaryText);
        var summary = JsonDocument.Parse(summaryText).RootElement;
        var totals = summary.GetProperty("totals");
        Assert.Equal(reported.Count, totals.GetProperty("requests").GetInt64());
        Assert.Equal(reported.Sum(r => r.Input), totals.GetProperty("input_tokens").GetInt64());
        Assert.Equal(reported.Sum(r => r.Output), totals.GetProperty("output_tokens").GetInt64());

        var groups = summary.GetProperty("groups").EnumerateArray().ToDictionary(g => g.GetProperty("key").GetString()!);
        Assert.Equal([InferenceApiServer.Chat, InferenceApiServer.Embedding], groups.Keys.Order(StringComparer.Ordinal));
        foreach (var endpoint in groups.Keys)
        {
            var mine = reported.Where(r => r.Endpoint == endpoint).ToList();
            Assert.Equal(
                (mine.Count, mine.Sum(r => r.Input), mine.Sum(r => r.Output)),
                (groups[endpoint].GetProperty("requests").GetInt32(), groups[endpoint].GetProperty("input_tokens").GetInt64(),
                    groups[endpoint].GetProperty("output_tokens").GetInt64()));
        }

        // The CSV: a header and one row per request, with the tokens each answer reported.
        using var csvResponse = await client.GetAsync($"/api/usage/records.csv?inference_id={InferenceApiServer.Embedding}");
        Assert.Equal(HttpStatusCode.OK, csvResponse.StatusCode);
        Assert.Equal("text/csv", csvResponse.Content.Headers.ContentType?.MediaType);
        var lines = (await csvResponse.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].Split(',');
        Assert.Equal("occurred_at", header[0]);
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(3, rows.Count);
        var inputColumn = Array.IndexOf(header, "input_tokens");
        var endpointColumn = Array.IndexOf(header, "inference_id");
        Assert.All(rows, r => Assert.Equal(InferenceApiServer.Embedding, r[endpointColumn]));
        Assert.Equal(
            reported.Where(r => r.Endpoint == InferenceApiServer.Embedding).Select(r => r.Input).Order(),
            rows.Select(r => long.Parse(r[inputColumn], CultureInfo.InvariantCulture)).Order());

        using var allCsv = await client.GetAsync("/api/usage/records.csv");
        Assert.Equal(reported.Count + 1, (await allCsv.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length);

        // A bad filter is a ProblemDetails 400 naming the parameter, before any CSV is sent.
        using var bad = await client.GetAsync("/api/usage/records.csv?from=yesterday");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("[from]", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var badGroup = await client.GetAsync("/api/usage/summary?group_by=week");
        Assert.Equal(HttpStatusCode.BadRequest, badGroup.StatusCode);
    }

    private static long Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values)
            ? long.Parse(values.Single(), CultureInfo.InvariantCulture)
            : throw new Xunit.Sdk.XunitException($"no {name} header");
}
