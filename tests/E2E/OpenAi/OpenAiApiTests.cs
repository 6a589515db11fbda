using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text.Json;
using WebConsole.E2E.Inference;

namespace WebConsole.E2E.OpenAi;

[Collection(InferenceApiCollection.Name)]
public sealed class OpenAiApiTests(InferenceApiServer fixture)
{
    [Fact]
    public async Task Chat_completions_answer_a_chat_completion_object_named_after_the_endpoint()
    {
        using var client = fixture.Client("Bearer");
        using var response = await client.PostAsync("/v1/chat/completions", InferenceApiServer.Json(new
        {
            model = InferenceApiServer.Chat,
            messages = new[] { new { role = "user", content = "Hello" } },
            max_tokens = 4,
        }));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        Assert.Equal("chat.completion", root.GetProperty("object").GetString());
        Assert.Equal(InferenceApiServer.Chat, root.GetProperty("model").GetString());
        Assert.Equal("assistant", root.GetProperty("choices")[0].GetProperty("message").GetProperty("role").GetString());
        var usage = root.GetProperty("usage");
        Assert.InRange(usage.GetProperty("completion_tokens").GetInt32(), 1, 4);
        Assert.Equal(usage.GetProperty("completion_tokens").GetInt32().ToString(CultureInfo.InvariantCulture), response.Headers.GetValues("x-webconsole-output-tokens").Single());
        Assert.Equal("0", response.Headers.GetValues("x-webconsole-cost").Single());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Chat_streams_are_bare_data_lines_ending_with_done_and_a_usage_chunk_only_when_asked(bool includeUsage)
    {
        using var client = fixture.Client("Bearer");
        using var response = await client.PostAsync("/v1/chat/completions", InferenceApiServer.Json(new
        {
            model = InferenceApiServer.Chat,
            messages = new[] { new { role = "user", content = "Hello" } },
            max_completion_tokens = 5,
            stream = true,
            stream_options = new { include_usage = includeUsage },
        }));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("event:", text, StringComparison.Ordinal);
        var events = InferenceApiTests.ParseEvents(text, named: false);
        Assert.Equal("[DONE]", events[^1].Data);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e.Data).RootElement).ToList();
        Assert.All(chunks, c => Assert.Equal(InferenceApiServer.Chat, c.GetProperty("model").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        var last = chunks[^1];
        if (includeUsage)
        {
            Assert.Equal(0, last.GetProperty("choices").GetArrayLength());
            var usage = last.GetProperty("usage");
            Assert.InRange(usage.GetProperty("completion_tokens").GetInt32(), 1, 5);
            Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + usage.GetProperty("completion_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32());
        }
        else
        {
            Assert.All(chunks, c => Assert.False(c.TryGetProperty("usage", out _)));
            Assert.NotEqual(JsonValueKind.Null, last.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind);
        }
    }

    [Fact]
    public async Task Embeddings_answer_floats_or_the_same_floats_in_base64_with_usage()
    {
        using var client = fixture.Client("Bearer");
        using var floats = await client.PostAsync("/v1/embeddings", InferenceApiServer.Json(new { model = InferenceApiServer.Embedding, input = new[] { "hello world", "bonjour" } }));
        var floatText = await floats.Content.ReadAsStringAsync();
        Assert.True(floats.StatusCode == HttpStatusCode.OK, fixture.Explain(floatText));
        using var floatJson = JsonDocument.Parse(floatText);
        var data = floatJson.RootElement.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal("list", floatJson.RootElement.GetProperty("object").GetString());
        Assert.Equal([0, 1], data.Select(d => d.GetProperty("index").GetInt32()));
        Assert.All(data, d => Assert.Equal("embedding", d.GetProperty("object").GetString()));
        var first = data[0].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.Equal(fixture.EmbeddingDimensions, first.Length);
        var usage = floatJson.RootElement.GetProperty("usage");
        Assert.True(usage.GetProperty("prompt_tokens").GetInt32() > 0);
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32());

        using var base64 = await client.PostAsync("/v1/embeddings", InferenceApiServer.Json(new { model = InferenceApiServer.Embedding, input = "hello world", encoding_format = "base64" }));
        using var base64Json = JsonDocument.Parse(await base64.Content.ReadAsStringAsync());
        var decoded = MemoryMarshal.Cast<byte, float>(Convert.FromBase64String(base64Json.RootElement.GetProperty("data")[0].GetProperty("embedding").GetString()!)).ToArray();
        Assert.Equal(first.Length, decoded.Length);
        Assert.All(first.Zip(decoded), pair => Assert.Equal(pair.First, pair.Second, 4));
    }

    [Fact]
    public async Task Models_lists_the_callers_endpoints_and_a_restricted_key_sees_only_its_own()
    {
        using var client = fixture.Client("Bearer");
        var all = await client.GetFromJsonAsync<JsonElement>("/v1/models");
        Assert.Equal("list", all.GetProperty("object").GetString());
        var ids = all.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToList();
        Assert.Contains(InferenceApiServer.Chat, ids);
        Assert.Contains(InferenceApiServer.Embedding, ids);
        Assert.All(all.GetProperty("data").EnumerateArray(), m => Assert.Equal("model", m.GetProperty("object").GetString()));

        using var created = await client.PostAsync("/_security/api_key", InferenceApiServer.Json(new
        {
            name = "openai-restricted",
            metadata = new { role = "inference_user", allowed_endpoints = new[] { InferenceApiServer.Chat } },
        }));
        var createdText = await created.Content.ReadAsStringAsync();
        Assert.True(created.IsSuccessStatusCode, createdText);
        var encoded = JsonDocument.Parse(createdText).RootElement.GetProperty("encoded").GetString()!;
        using var restricted = fixture.Client("Bearer", encoded);
        var own = await restricted.GetFromJsonAsync<JsonElement>("/v1/models");
        Assert.Equal([InferenceApiServer.Chat], own.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()));

        using var refused = await restricted.PostAsync("/v1/embeddings", InferenceApiServer.Json(new { model = InferenceApiServer.Embedding, input = "a" }));
        await AssertOpenAiErrorAsync(refused, HttpStatusCode.NotFound, "model_not_found", null);
    }

    [Fact]
    public async Task Errors_are_openai_shaped()
    {
        using var client = fixture.Client("Bearer");
        using (var missing = await client.PostAsync("/v1/chat/completions", InferenceApiServer.Json(new { model = "no-such-model", messages = new[] { new { role = "user", content = "Hi" } } })))
        {
            await AssertOpenAiErrorAsync(missing, HttpStatusCode.NotFound, "model_not_found", null);
        }

        using (var noModel = await client.PostAsync("/v1/embeddings", InferenceApiServer.Json(new { input = "a" })))
        {
            await AssertOpenAiErrorAsync(noModel, HttpStatusCode.BadRequest, "missing_model", "model");
        }

        using (var tooMany = await client.PostAsync("/v1/embeddings", InferenceApiServer.Json(new { model = InferenceApiServer.Embedding, input = Enumerable.Repeat("a", InferenceApiServer.MaxInputs + 1) })))
        {
            await AssertOpenAiErrorAsync(tooMany, HttpStatusCode.BadRequest, null, null);
        }

        using (var wrongKind = await client.PostAsync("/v1/embeddings", InferenceApiServer.Json(new { model = InferenceApiServer.Chat, input = "a" })))
        {
            await AssertOpenAiErrorAsync(wrongKind, HttpStatusCode.BadRequest, null, null);
        }

        using var anonymous = fixture.Server.CreateClient();
        using var unauthenticated = await anonymous.GetAsync("/v1/models");
        await AssertOpenAiErrorAsync(unauthenticated, HttpStatusCode.Unauthorized, "invalid_api_key", null);
    }

    private async Task AssertOpenAiErrorAsync(HttpResponseMessage response, HttpStatusCode status, string? code, string? param)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, fixture.Explain($"{(int)response.StatusCode} {text}"));
        using var json = JsonDocument.Parse(text);
        var error = json.RootElement.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
        Assert.True(error.TryGetProperty("param", out var p));
        Assert.True(error.TryGetProperty("code", out var c));
        if (code is not null)
        {
            Assert.Equal(code, c.GetString());
        }

        Assert.Equal(param, p.ValueKind == JsonValueKind.Null ? null : p.GetString());
    }
}
