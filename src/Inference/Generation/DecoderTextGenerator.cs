using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.ML.OnnxRuntime;
using WebConsole.Inference.Abstractions;
using WebConsole.Inference.Generation.Templates;
using WebConsole.Inference.Models;
using WebConsole.Inference.Tokenization;

namespace WebConsole.Inference.Generation;

/// <summary>
/// Text generation over one decoder session: the model's chat template, KV-cached decoding, greedy or seeded
/// temperature/top-p sampling, stop sequences and EOS ids, streaming in pieces that never split a character, token counts.
/// Thread-safe: requests take turns on the session (the deployment scheduler spreads load over several instances).
/// </summary>
public sealed class DecoderTextGenerator : IChatClient, ITextCompletionClient, IDisposable
{
    private readonly DecoderSession _session;
    private readonly ITokenizer _tokenizer;
    private readonly DecoderModelConfig _config;
    private readonly ChatTemplate? _template;
    private readonly int _defaultMaxTokens;
    private readonly SemaphoreSlim _turn = new(1, 1);

    /// <summary>Creates a generator; <paramref name="template"/> null answers chat requests with an input error.</summary>
    public DecoderTextGenerator(DecoderSession session, ITokenizer tokenizer, DecoderModelConfig config, ChatTemplate? template, int defaultMaxTokens = 256)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfLessThan(defaultMaxTokens, 1);
        _session = session;
        _tokenizer = tokenizer;
        _config = config;
        _template = template;
        _defaultMaxTokens = defaultMaxTokens;
    }

    /// <summary>Whether decoding reuses the KV cache (false: the model has no past inputs, or recomputation was asked for).</summary>
    public bool UsesKvCache => _session.UsesKvCache;

    /// <summary>The model's chat template, if it has one.</summary>
    public ChatTemplate? Template => _template;

    /// <summary>The tokenizer (tests and surfaces count tokens with it).</summary>
    public ITokenizer Tokenizer => _tokenizer;

    /// <summary>Opens a model folder in the Hugging Face export layout (onnx/model.onnx or model.onnx beside config.json).</summary>
    public static DecoderTextGenerator Open(string modelFolder, SessionOptions? options = null, bool useKvCache = true, int defaultMaxTokens = 256)
    {
        var config = DecoderModelConfig.FromFolder(modelFolder);
        var tokenizer = TokenizerLoader.FromFolder(modelFolder);
        var template = ChatTemplate.FromFolder(modelFolder);
        // The export layout (onnx/model.onnx or model.onnx) is ModelFolder's to know.
        var modelPath = ModelFolder.Open(Path.GetFileName(Path.TrimEndingDirectorySeparator(modelFolder)), modelFolder).OnnxPath;
        return new DecoderTextGenerator(DecoderSession.Open(modelPath, config, options, useKvCache), tokenizer, config, template, defaultMaxTokens);
    }

    /// <summary>The prompt ids of a conversation: the rendered template, tokenized without adding special tokens (the template has them).</summary>
    public int[] EncodeChat(IReadOnlyList<ChatMessage> messages) => EncodeChat(_template, _tokenizer, messages);

    /// <summary>
    /// The prompt ids of a conversation under <paramref name="template"/>, without a session: the host encodes once, before
    /// queueing, so it knows the prompt's size and the worker does not render the template again.
    /// </summary>
    public static int[] EncodeChat(ChatTemplate? template, ITokenizer tokenizer, IReadOnlyList<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var chat = template ?? throw new InferenceInputException("This model has no chat template; use text completion.");
        var rendered = chat.Render(messages, addGenerationPrompt: true);
        return tokenizer.Encode(rendered, options: new EncodeOptions { AddSpecialTokens = false }).Ids;
    }

    /// <summary>The prompt ids of a plain completion prompt (with the tokenizer's own special tokens).</summary>
    public int[] EncodePrompt(string prompt) => _tokenizer.Encode(prompt).Ids;

    /// <inheritdoc />
    public Task<GenerationResponse> GetResponseAsync(IReadOnlyList<ChatMessage> messages, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        CollectAsync(GenerateAsync(EncodeChat(messages), options, cancellationToken));

    /// <inheritdoc />
    public IAsyncEnumerable<GenerationUpdate> GetStreamingResponseAsync(IReadOnlyList<ChatMessage> messages, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        GenerateAsync(EncodeChat(messages), options, cancellationToken);

    /// <inheritdoc />
    public Task<GenerationResponse> CompleteAsync(string prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        CollectAsync(GenerateAsync(EncodePrompt(prompt), options, cancellationToken));

    /// <inheritdoc />
    public IAsyncEnumerable<GenerationUpdate> CompleteStreamingAsync(string prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        GenerateAsync(EncodePrompt(prompt), options, cancellationToken);

    /// <summary>
    /// Generates from prompt ids, one update per piece of text, each with the usage so far (billing checkpoints a running
    /// stream with it); the last carries the finish reason and the total usage.
    /// </summary>
    public async IAsyncEnumerable<GenerationUpdate> GenerateAsync(
        IReadOnlyList<int> promptIds,
        GenerationOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(promptIds);
        var generated = 0;
        await foreach (var token in GenerateTokensAsync(promptIds, options, cancellationToken))
        {
            // Every entry but the final one stands for one generated token (the final one carries the exact total).
            generated++;
            if (token.Text.Length > 0 || token.FinishReason is not null)
            {
                yield return new GenerationUpdate(token.Text, token.FinishReason, token.Usage ?? new UsageDetails(promptIds.Count, generated));
            }
        }
    }

    /// <summary>The generation loop, one entry per generated token (with the text it released), for tests and surfaces that need ids.</summary>
    internal async IAsyncEnumerable<GeneratedToken> GenerateTokensAsync(
        IReadOnlyList<int> promptIds,
        GenerationOptions? options,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(promptIds);
        options ??= new GenerationOptions();
        if (promptIds.Count == 0)
        {
            throw new InferenceInputException("The prompt is empty.");
        }

        var maxTokens = options.MaxOutputTokens ?? _defaultMaxTokens;
        if (maxTokens < 1)
        {
            throw new InferenceInputException("max tokens must be at least 1.");
        }

        if (_config.MaxPositions is { } limit)
        {
            if (promptIds.Count >= limit)
            {
                throw new InferenceInputException($"The prompt has {promptIds.Count} tokens; this model reads at most {limit}.");
            }

            maxTokens = Math.Min(maxTokens, limit - promptIds.Count);
        }

        TokenSampler sampler;
        try
        {
            // A request without a temperature gets the model's own sampling defaults (generation_config.json), as vLLM does.
            sampler = options.Temperature is null
                ? new TokenSampler(_config.DefaultTemperature, options.TopP ?? _config.DefaultTopP, options.Seed)
                : new TokenSampler(options.Temperature, options.TopP, options.Seed);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new InferenceInputException(e.Message);
        }

        await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var runOptions = new RunOptions();
            using var terminate = cancellationToken.Register(() => runOptions.Terminate = true);
            var detokenizer = new IncrementalDetokenizer(_tokenizer);
            var stops = new StopSequenceBuffer(options.StopSequences);
            var generated = 0;
            var finish = FinishReason.Length;
            IReadOnlyList<int> next = promptIds;
            var eos = -1;
            _session.Reset();
            while (generated < maxTokens)
            {
                // Yielding to the scheduler between steps keeps a long generation from holding a thread pool thread.
                await Task.Yield();
                var id = Step(next, sampler, runOptions, new UsageDetails(promptIds.Count, generated), cancellationToken);
                generated++;
                if (_config.EosTokenIds.Contains(id))
                {
                    finish = FinishReason.Stop;
                    eos = id;
                    break;
                }

                var piece = stops.Add(detokenizer.Add(id));
                if (stops.Stopped)
                {
                    finish = FinishReason.Stop;
                    yield return new GeneratedToken(id, piece);
                    break;
                }

                if (generated < maxTokens)
                {
                    yield return new GeneratedToken(id, piece);
                }
                else
                {
                    // The last token's text goes out with the final update below.
                    var rest = stops.Add(detokenizer.Flush()) + stops.Flush();
                    yield return new GeneratedToken(id, piece + rest, finish, new UsageDetails(promptIds.Count, generated));
                    yield break;
                }

                next = [id];
            }

            var tail = stops.Stopped ? string.Empty : stops.Add(detokenizer.Flush()) + stops.Flush();
            yield return new GeneratedToken(eos, tail, finish, new UsageDetails(promptIds.Count, generated));
        }
        finally
        {
            // The cache of a finished (or abandoned) sequence is released before the next request starts.
            _session.Reset();
            _turn.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _session.Dispose();
        _turn.Dispose();
    }

    /// <summary>Collects a streamed generation into one response (text, finish reason, usage).</summary>
    public static async Task<GenerationResponse> CollectAsync(IAsyncEnumerable<GenerationUpdate> updates)
    {
        var text = new StringBuilder();
        FinishReason finish = FinishReason.Length;
        UsageDetails usage = default;
        await foreach (var update in updates.ConfigureAwait(false))
        {
            text.Append(update.Text);
            finish = update.FinishReason ?? finish;
            usage = update.Usage ?? usage;
        }

        return new GenerationResponse(text.ToString(), finish, usage);
    }

    private int Step(IReadOnlyList<int> tokens, TokenSampler sampler, RunOptions runOptions, UsageDetails usageSoFar, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            throw new GenerationCanceledException(usageSoFar, cancellationToken);
        }

        try
        {
            return sampler.Next(_session.Forward(tokens, runOptions));
        }
        catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
        {
            // RunOptions.Terminate ended the step mid-run.
            throw new GenerationCanceledException(usageSoFar, cancellationToken);
        }
    }
}

/// <summary>One generated token and the text it released (the final entry, id -1 or the last token, carries finish and usage).</summary>
internal sealed record GeneratedToken(int Id, string Text, FinishReason? FinishReason = null, UsageDetails? Usage = null);
