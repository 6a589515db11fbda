using WebConsole.Inference.Abstractions;
using WebConsole.Inference.Generation;

namespace WebConsole.Unit.Inference.Generation;

// Generation on the generated Qwen3 / Llama 3 decoders, run by the real ONNX Runtime and compared with transformers.js.
[Collection(DecoderCollection.Name)]
public sealed class DecoderGenerationTests(DecoderFixture models)
{
    private const int Tokens = 16;

    [Fact]
    public async Task Kv_cache_greedy_decoding_equals_full_recomputation_for_several_prompts()
    {
        foreach (var conversation in DecoderFixture.Conversations)
        {
            var qwenPrompt = models.Qwen3.EncodeChat(conversation);
            var cached = await DecoderFixture.GreedyIdsAsync(models.Qwen3, qwenPrompt, Tokens);
            Assert.Equal(Tokens, cached.Count);
            Assert.Equal(cached, await DecoderFixture.GreedyIdsAsync(models.Qwen3Recomputing, qwenPrompt, Tokens));
            Assert.Equal(cached, await DecoderFixture.GreedyIdsAsync(models.Qwen3WithoutPast, qwenPrompt, Tokens));

            var llamaPrompt = models.Llama3.EncodeChat(conversation);
            Assert.Equal(
                await DecoderFixture.GreedyIdsAsync(models.Llama3Recomputing, llamaPrompt, Tokens),
                await DecoderFixture.GreedyIdsAsync(models.Llama3, llamaPrompt, Tokens));
        }
    }

    [Fact]
    public void Decoder_session_reads_the_cache_signature_from_the_model()
    {
        Assert.True(models.Qwen3.UsesKvCache);
        Assert.False(models.Qwen3Recomputing.UsesKvCache);
        Assert.False(models.Qwen3WithoutPast.UsesKvCache);
    }

    [Fact]
    public async Task Qwen3_chatml_prompt_and_greedy_tokens_equal_transformers_js()
    {
        await AssertMatchesReferenceAsync(models.Qwen3, models.Qwen3Folder);
    }

    [Fact]
    public async Task Llama3_prompt_and_greedy_tokens_equal_transformers_js()
    {
        await AssertMatchesReferenceAsync(models.Llama3, models.Llama3Folder);
    }

    [Fact]
    public async Task Streamed_pieces_concatenate_to_the_full_text_and_never_split_a_character()
    {
        foreach (var generator in new[] { models.Qwen3, models.Llama3 })
        {
            foreach (var conversation in DecoderFixture.Conversations)
            {
                List<int> ids = [];
                List<string> pieces = [];
                await foreach (var token in generator.GenerateTokensAsync(generator.EncodeChat(conversation), new GenerationOptions { MaxOutputTokens = 24 }, CancellationToken.None))
                {
                    if (token.Id >= 0)
                    {
                        ids.Add(token.Id);
                    }

                    pieces.Add(token.Text);
                }

                var full = generator.Tokenizer.Decode(ids);
                Assert.Equal(full, string.Concat(pieces));
                AssertWholeCharacters(pieces, full);
            }
        }
    }

    [Fact]
    public void Incremental_detokenization_holds_partial_utf8_back_until_the_character_is_complete()
    {
        // Emoji and CJK split into byte-level tokens that each carry part of a UTF-8 sequence.
        const string text = "Grüße 🌍🚀 from 東京, naïve café — 👩‍👩‍👧 done.";
        foreach (var generator in new[] { models.Qwen3, models.Llama3 })
        {
            var ids = generator.Tokenizer.Encode(text, options: new() { AddSpecialTokens = false }).Ids;
            var detokenizer = new IncrementalDetokenizer(generator.Tokenizer);
            List<string> pieces = [.. ids.Select(detokenizer.Add)];
            pieces.Add(detokenizer.Flush());

            Assert.Equal(text, string.Concat(pieces));
            AssertWholeCharacters(pieces, text);
            Assert.Contains(pieces, p => p.Length == 0);
        }
    }

    [Fact]
    public async Task A_stop_sequence_ends_generation_and_is_not_returned()
    {
        var conversation = DecoderFixture.Conversations[1];
        var free = await models.Llama3.GetResponseAsync(conversation, new GenerationOptions { MaxOutputTokens = Tokens });
        Assert.True(free.Text.Length > 12, free.Text);
        var stop = free.Text.Substring(free.Text.Length / 2, 3);
        var expected = free.Text[..free.Text.IndexOf(stop, StringComparison.Ordinal)];

        var stopped = await models.Llama3.GetResponseAsync(conversation, new GenerationOptions { MaxOutputTokens = Tokens, StopSequences = ["never appears", stop] });
        Assert.Equal(expected, stopped.Text);
        Assert.Equal(FinishReason.Stop, stopped.FinishReason);
        Assert.True(stopped.Usage.OutputTokens < Tokens);

        List<string> streamed = [];
        await foreach (var update in models.Llama3.GetStreamingResponseAsync(conversation, new GenerationOptions { MaxOutputTokens = Tokens, StopSequences = [stop] }))
        {
            streamed.Add(update.Text);
        }

        Assert.Equal(expected, string.Concat(streamed));
        Assert.DoesNotContain(streamed, piece => piece.Contains(stop, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Max_tokens_finishes_with_length_and_counts_tokens()
    {
        var conversation = DecoderFixture.Conversations[0];
        var response = await models.Qwen3.GetResponseAsync(conversation, new GenerationOptions { MaxOutputTokens = 5 });

        Assert.Equal(FinishReason.Length, response.FinishReason);
        Assert.Equal(new UsageDetails(models.Qwen3.EncodeChat(conversation).Length, 5), response.Usage);

        var completion = await models.Llama3.CompleteAsync("Once upon a time", new GenerationOptions { MaxOutputTokens = 3 });
        Assert.Equal(FinishReason.Length, completion.FinishReason);
        Assert.Equal(new UsageDetails(models.Llama3.EncodePrompt("Once upon a time").Length, 3), completion.Usage);
    }

    [Fact]
    public async Task Seeded_sampling_is_reproducible_and_different_seeds_differ()
    {
        var conversation = DecoderFixture.Conversations[2];
        GenerationOptions Options(long seed) => new() { MaxOutputTokens = Tokens, Temperature = 1.5f, TopP = 0.95f, Seed = seed };

        var first = await models.Llama3.GetResponseAsync(conversation, Options(42));
        var again = await models.Llama3.GetResponseAsync(conversation, Options(42));
        var other = await models.Llama3.GetResponseAsync(conversation, Options(43));
        var greedy = await models.Llama3.GetResponseAsync(conversation, new GenerationOptions { MaxOutputTokens = Tokens });

        Assert.Equal(first.Text, again.Text);
        Assert.NotEqual(first.Text, other.Text);
        Assert.NotEqual(greedy.Text, first.Text);
    }

    [Fact]
    public async Task Cancellation_mid_stream_stops_generation_and_reports_usage_so_far()
    {
        var conversation = DecoderFixture.Conversations[0];
        var promptTokens = models.Llama3.EncodeChat(conversation).Length;
        using var cancellation = new CancellationTokenSource();
        var tokens = 0;
        var thrown = await Assert.ThrowsAsync<GenerationCanceledException>(async () =>
        {
            await foreach (var token in models.Llama3.GenerateTokensAsync(models.Llama3.EncodeChat(conversation), new GenerationOptions { MaxOutputTokens = 200 }, cancellation.Token))
            {
                if (++tokens == 3)
                {
                    await cancellation.CancelAsync();
                }
            }
        });

        Assert.Equal(3, tokens);
        Assert.Equal(new UsageDetails(promptTokens, 3), thrown.Usage);

        // The session is free again and starts a fresh sequence.
        var after = await models.Llama3.GetResponseAsync(conversation, new GenerationOptions { MaxOutputTokens = 2 });
        Assert.Equal(2, after.Usage.OutputTokens);
    }

    private static async Task AssertMatchesReferenceAsync(DecoderTextGenerator generator, string folder)
    {
        var reference = await DecoderFixture.ReferenceAsync(folder);
        for (var i = 0; i < DecoderFixture.Conversations.Count; i++)
        {
            Assert.Equal(reference[i].Rendered, generator.Template!.Render(DecoderFixture.Conversations[i]));
            var prompt = generator.EncodeChat(DecoderFixture.Conversations[i]);
            Assert.Equal(reference[i].PromptIds, prompt);
            Assert.Equal(reference[i].OutputIds, await DecoderFixture.GreedyIdsAsync(generator, prompt, DecoderFixture.MaxNewTokens));
        }

        var plain = reference[^1];
        var plainPrompt = generator.EncodePrompt("Once upon a time");
        Assert.Equal(plain.PromptIds, plainPrompt);
        Assert.Equal(plain.OutputIds, await DecoderFixture.GreedyIdsAsync(generator, plainPrompt, DecoderFixture.MaxNewTokens));
    }

    private static void AssertWholeCharacters(IEnumerable<string> pieces, string full)
    {
        var fullHasReplacement = full.Contains('\uFFFD', StringComparison.Ordinal);
        foreach (var piece in pieces.Where(p => p.Length > 0))
        {
            Assert.False(char.IsLowSurrogate(piece[0]), $"piece starts inside a surrogate pair: {piece}");
            Assert.False(char.IsHighSurrogate(piece[^1]), $"piece ends inside a surrogate pair: {piece}");
            if (!fullHasReplacement)
            {
                Assert.DoesNotContain('\uFFFD', piece);
            }
        }
    }
}
