using System.Text.RegularExpressions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace WebConsole.Inference.Generation;

/// <summary>
/// One decoder ONNX session and the KV cache of the one sequence it is generating. The signature is read from the model:
/// <c>past_key_values.N.key/value</c> inputs pair with <c>present.N.key/value</c> outputs (optimum's export), and each
/// step binds the previous step's present OrtValues as the next pasts through an IOBinding, so the cache never leaves
/// ONNX Runtime's memory (on a GPU provider it stays on the device). Models exported without past, or a session created
/// with <c>useKvCache: false</c>, recompute the whole sequence every step. Not thread-safe: one sequence at a time.
/// </summary>
public sealed partial class DecoderSession : IDisposable
{
    private static readonly long[] ScalarShape = [1];
    private static readonly long[] EmptyShape = [];
    private readonly InferenceSession _session;
    private readonly bool _ownsSession;
    private readonly OrtMemoryInfo _cacheMemory;
    private readonly string _logitsName;
    private readonly bool _hasPositionIds;
    private readonly bool _hasCacheBranch;
    private readonly bool _hasLogitsToKeep;
    private readonly CacheEntry[] _cache;
    private readonly List<long> _tokens = [];
    private readonly RunOptions _runOptions = new();
    private OrtValue[]? _past;
    private int _pastLength;
    private float[] _logits = [];

    /// <summary>Wraps <paramref name="session"/>; <paramref name="config"/> fills cache dimensions the model leaves symbolic.</summary>
    /// <param name="session">A decoder session.</param>
    /// <param name="config">The folder's configuration.</param>
    /// <param name="useKvCache">False recomputes the whole sequence every step even where the model has a cache.</param>
    /// <param name="ownsSession">Whether disposing this disposes <paramref name="session"/>.</param>
    /// <param name="cacheMemory">Where present outputs are kept between steps; CPU by default (a CUDA session passes device memory).</param>
    public DecoderSession(InferenceSession session, DecoderModelConfig config, bool useKvCache = true, bool ownsSession = true, OrtMemoryInfo? cacheMemory = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(config);
        _session = session;
        _ownsSession = ownsSession;
        _cacheMemory = cacheMemory ?? OrtMemoryInfo.DefaultInstance;
        var inputs = session.InputMetadata;
        if (!inputs.ContainsKey("input_ids"))
        {
            throw new InvalidOperationException("The decoder has no input_ids input.");
        }

        _logitsName = session.OutputMetadata.ContainsKey("logits")
            ? "logits"
            : session.OutputNames.Count > 0 ? session.OutputNames[0] : throw new InvalidOperationException("The decoder has no outputs.");
        _hasPositionIds = inputs.ContainsKey("position_ids");
        _hasCacheBranch = inputs.ContainsKey("use_cache_branch");
        _hasLogitsToKeep = inputs.ContainsKey("num_logits_to_keep");
        HasAttentionMask = inputs.ContainsKey("attention_mask");

        List<CacheEntry> cache = [];
        foreach (var (name, metadata) in inputs)
        {
            var match = PastName().Match(name);
            if (!match.Success)
            {
                continue;
            }

            var present = $"present.{match.Groups[1].Value}.{match.Groups[2].Value}";
            if (!session.OutputMetadata.ContainsKey(present))
            {
                throw new InvalidOperationException($"The decoder has the input {name} but no output {present}.");
            }

            // Dimensions the export fixed are used as they are; symbolic ones (other than batch and past length) come from config.json.
            var dims = metadata.Dimensions;
            if (dims.Length != 4)
            {
                throw new InvalidOperationException($"{name} has {dims.Length} dimensions; [batch, heads, past, head_dim] was expected.");
            }

            var heads = dims[1] > 0 ? dims[1] : config.KeyValueHeads ?? throw new InvalidOperationException($"{name} leaves the head count symbolic and config.json has no num_key_value_heads.");
            var headDim = dims[3] > 0 ? dims[3] : config.HeadDim ?? throw new InvalidOperationException($"{name} leaves head_dim symbolic and config.json has none.");
            cache.Add(new CacheEntry(name, present, metadata.ElementDataType, heads, headDim));
        }

        _cache = [.. cache.OrderBy(c => c.Past, StringComparer.Ordinal)];
        UsesKvCache = useKvCache && _cache.Length > 0;
    }

    /// <summary>Whether steps reuse the KV cache (false: every step recomputes the whole sequence).</summary>
    public bool UsesKvCache { get; }

    /// <summary>Whether the model takes an attention_mask.</summary>
    public bool HasAttentionMask { get; }

    /// <summary>Tokens of the current sequence (prompt and generated).</summary>
    public int Length => _tokens.Count;

    /// <summary>Opens <paramref name="modelPath"/> with <paramref name="options"/>.</summary>
    public static DecoderSession Open(string modelPath, DecoderModelConfig config, SessionOptions? options = null, bool useKvCache = true)
    {
        var session = options is null ? new InferenceSession(modelPath) : new InferenceSession(modelPath, options);
        try
        {
            return new DecoderSession(session, config, useKvCache);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Forgets the current sequence and frees its cache.</summary>
    public void Reset()
    {
        _tokens.Clear();
        ReleasePast();
    }

    /// <summary>
    /// Appends <paramref name="tokens"/> to the sequence, runs the model over them (or over everything without a cache), and
    /// answers the logits of the last position. The span is valid until the next call.
    /// </summary>
    public ReadOnlySpan<float> Forward(IReadOnlyList<int> tokens, RunOptions? runOptions = null)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.Count == 0)
        {
            throw new ArgumentException("At least one token is needed.", nameof(tokens));
        }

        foreach (var token in tokens)
        {
            _tokens.Add(token);
        }

        var pastLength = UsesKvCache ? _pastLength : 0;
        var fed = _tokens.Count - pastLength;
        var ids = new long[fed];
        var positions = new long[fed];
        for (var i = 0; i < fed; i++)
        {
            ids[i] = _tokens[pastLength + i];
            positions[i] = pastLength + i;
        }

        var mask = new long[pastLength + fed];
        Array.Fill(mask, 1L);

        List<OrtValue> owned = [];
        using var binding = _session.CreateIoBinding();
        try
        {
            binding.BindInput("input_ids", Own(owned, OrtValue.CreateTensorValueFromMemory(ids, [1, fed])));
            if (HasAttentionMask)
            {
                binding.BindInput("attention_mask", Own(owned, OrtValue.CreateTensorValueFromMemory(mask, [1, mask.Length])));
            }

            if (_hasPositionIds)
            {
                binding.BindInput("position_ids", Own(owned, OrtValue.CreateTensorValueFromMemory(positions, [1, fed])));
            }

            if (_hasCacheBranch)
            {
                binding.BindInput("use_cache_branch", Own(owned, OrtValue.CreateTensorValueFromMemory(new[] { pastLength > 0 }, ScalarShape)));
            }

            if (_hasLogitsToKeep)
            {
                binding.BindInput("num_logits_to_keep", Own(owned, OrtValue.CreateTensorValueFromMemory(new long[] { 1 }, EmptyShape)));
            }

            for (var i = 0; i < _cache.Length; i++)
            {
                var entry = _cache[i];
                var past = UsesKvCache && _past is not null
                    ? _past[i]
                    : Own(owned, OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, entry.ElementType, [1, entry.Heads, 0, entry.HeadDim]));
                binding.BindInput(entry.Past, past);
            }

            binding.BindOutputToDevice(_logitsName, OrtMemoryInfo.DefaultInstance);
            foreach (var entry in _cache)
            {
                binding.BindOutputToDevice(entry.Present, _cacheMemory);
            }

            // The results are not disposed as a collection: the presents live on as the next step's pasts.
            var results = _session.RunWithBoundResults(runOptions ?? _runOptions, binding);
            owned.AddRange(results.Take(1));
            if (UsesKvCache)
            {
                ReleasePast();
                _past = [.. results.Skip(1)];
                _pastLength = _tokens.Count;
            }
            else
            {
                owned.AddRange(results.Skip(1));
            }

            ReadLastLogits(results[0]);
        }
        catch
        {
            // A failed or cancelled step leaves the sequence unusable; the next request starts over.
            Reset();
            throw;
        }
        finally
        {
            foreach (var value in owned)
            {
                value.Dispose();
            }
        }

        return _logits;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        ReleasePast();
        _runOptions.Dispose();
        if (_ownsSession)
        {
            _session.Dispose();
            Runtime.NativeMemory.Trim();
        }
    }

    private static OrtValue Own(List<OrtValue> owned, OrtValue value)
    {
        owned.Add(value);
        return value;
    }

    private void ReadLastLogits(OrtValue logits)
    {
        var info = logits.GetTensorTypeAndShape();
        var shape = info.Shape;
        var vocabulary = (int)shape[^1];
        if (_logits.Length != vocabulary)
        {
            _logits = new float[vocabulary];
        }

        var count = (int)info.ElementCount;
        switch (info.ElementDataType)
        {
            case TensorElementType.Float:
                logits.GetTensorDataAsSpan<float>().Slice(count - vocabulary, vocabulary).CopyTo(_logits);
                break;
            case TensorElementType.Float16:
                var halves = logits.GetTensorDataAsSpan<Float16>().Slice(count - vocabulary, vocabulary);
                for (var i = 0; i < vocabulary; i++)
                {
                    _logits[i] = halves[i].ToFloat();
                }

                break;
            default:
                throw new InvalidOperationException($"Logits of type {info.ElementDataType} are not supported.");
        }
    }

    private void ReleasePast()
    {
        if (_past is not null)
        {
            foreach (var value in _past)
            {
                value.Dispose();
            }

            _past = null;
        }

        _pastLength = 0;
    }

    [GeneratedRegex(@"^past_key_values\.(\d+)\.(key|value)$")]
    private static partial Regex PastName();

    private sealed record CacheEntry(string Past, string Present, TensorElementType ElementType, long Heads, long HeadDim);
}
