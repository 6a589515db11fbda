namespace WebConsole.Inference.Generation;

/// <summary>
/// Picks the next token from logits: greedy (temperature 0 or unset: the highest logit, the lowest id on ties, as
/// argmax in transformers) or temperature plus nucleus (top-p) sampling from a seeded generator, so a seed reproduces a
/// generation exactly on any machine. Not thread-safe: one per generation.
/// </summary>
public sealed class TokenSampler
{
    private readonly float _temperature;
    private readonly float _topP;
    private readonly SplitMix64 _random;
    private float[] _probabilities = [];
    private int[] _order = [];
    private float[] _keys = [];

    /// <summary>Creates a sampler; <paramref name="seed"/> null draws a random seed.</summary>
    public TokenSampler(float? temperature, float? topP, long? seed)
    {
        if (temperature is < 0 || float.IsNaN(temperature ?? 0))
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), "The temperature must be 0 or more.");
        }

        if (topP is <= 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(topP), "top_p must be in (0, 1].");
        }

        _temperature = temperature ?? 0;
        _topP = topP ?? 1;
        _random = new SplitMix64(seed ?? Random.Shared.NextInt64());
    }

    /// <summary>Whether this sampler always takes the most likely token.</summary>
    public bool IsGreedy => _temperature == 0;

    /// <summary>Chooses a token id from <paramref name="logits"/> (one per vocabulary entry).</summary>
    public int Next(ReadOnlySpan<float> logits)
    {
        if (IsGreedy)
        {
            return ArgMax(logits);
        }

        if (_probabilities.Length != logits.Length)
        {
            _probabilities = new float[logits.Length];
            _order = new int[logits.Length];
        }

        // Softmax of logits / T in double for the sum; the largest logit is subtracted so exp never overflows.
        var max = logits[ArgMax(logits)];
        double sum = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            var p = Math.Exp((logits[i] - max) / _temperature);
            _probabilities[i] = (float)p;
            sum += p;
        }

        var draw = _random.NextDouble();
        if (_topP >= 1)
        {
            return Draw(draw * sum, logits.Length);
        }

        // Nucleus: the most likely tokens whose mass reaches top_p (at least one), renormalised. Only candidates above a
        // threshold are sorted: once the tokens at or above it hold top_p of the mass, the nucleus lies among them.
        var target = _topP * sum;
        var peak = _probabilities.AsSpan(0, logits.Length);
        var candidates = 0;
        for (var threshold = 1e-2f; ; threshold *= 1e-2f)
        {
            double mass = 0;
            candidates = 0;
            for (var i = 0; i < peak.Length; i++)
            {
                if (peak[i] >= threshold || threshold < 1e-30f)
                {
                    _order[candidates++] = i;
                    mass += peak[i];
                }
            }

            if (mass >= target || threshold < 1e-30f)
            {
                break;
            }
        }

        if (_keys.Length < candidates)
        {
            _keys = new float[logits.Length];
        }

        for (var i = 0; i < candidates; i++)
        {
            // Negated so the ascending sort puts the most likely first (the sort is deterministic, so seeds still reproduce).
            _keys[i] = -peak[_order[i]];
        }

        Array.Sort(_keys, _order, 0, candidates);
        double kept = 0;
        var count = 0;
        while (count < candidates && (count == 0 || kept < target))
        {
            kept += peak[_order[count]];
            count++;
        }

        var drawn = draw * kept;
        double cumulative = 0;
        for (var i = 0; i < count; i++)
        {
            cumulative += peak[_order[i]];
            if (drawn < cumulative)
            {
                return _order[i];
            }
        }

        return _order[count - 1];
    }

    /// <summary>The index of the largest value (the first one on ties).</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    private int Draw(double threshold, int length)
    {
        double cumulative = 0;
        var last = 0;
        for (var i = 0; i < length; i++)
        {
            if (_probabilities[i] <= 0)
            {
                continue;
            }

            last = i;
            cumulative += _probabilities[i];
            if (threshold < cumulative)
            {
                return i;
            }
        }

        return last;
    }

    /// <summary>SplitMix64: tiny, fast and fully specified, so seeded results do not depend on the .NET version.</summary>
    private sealed class SplitMix64(long seed)
    {
        private ulong _state = unchecked((ulong)seed);

        public double NextDouble()
        {
            var z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            return (z >> 11) * (1.0 / (1UL << 53));
        }
    }
}
