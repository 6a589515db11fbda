namespace WebConsole.Inference.Generation;

/// <summary>
/// Holds generated text back while it could still be the start of a stop sequence, and cuts the output where one
/// matches (the match itself is never emitted). Text that can no longer be part of a match is released at once.
/// </summary>
public sealed class StopSequenceBuffer
{
    private readonly string[] _stops;
    private readonly System.Text.StringBuilder _pending = new();

    /// <summary>Creates a buffer for <paramref name="stopSequences"/> (empty strings are ignored).</summary>
    public StopSequenceBuffer(IEnumerable<string> stopSequences)
    {
        ArgumentNullException.ThrowIfNull(stopSequences);
        _stops = [.. stopSequences.Where(s => !string.IsNullOrEmpty(s)).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>Whether a stop sequence has matched; nothing more is accepted after that.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Adds <paramref name="text"/> and answers what can be emitted now.</summary>
    public string Add(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (Stopped)
        {
            return string.Empty;
        }

        _pending.Append(text);
        if (_stops.Length == 0)
        {
            return Take(_pending.Length);
        }

        var pending = _pending.ToString();
        var cut = -1;
        foreach (var stop in _stops)
        {
            var at = pending.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (cut < 0 || at < cut))
            {
                cut = at;
            }
        }

        if (cut >= 0)
        {
            Stopped = true;
            var emitted = pending[..cut];
            _pending.Clear();
            return emitted;
        }

        // Keep the longest tail that is a proper prefix of some stop sequence.
        var hold = 0;
        foreach (var stop in _stops)
        {
            for (var length = Math.Min(stop.Length - 1, pending.Length); length > hold; length--)
            {
                if (pending.AsSpan(pending.Length - length).SequenceEqual(stop.AsSpan(0, length)))
                {
                    hold = length;
                    break;
                }
            }
        }

        var release = pending.Length - hold;
        if (release > 0 && char.IsHighSurrogate(pending[release - 1]))
        {
            release--;
        }

        return Take(release);
    }

    /// <summary>At the end of generation: the held-back text, which turned out not to be a stop sequence.</summary>
    public string Flush() => Stopped ? string.Empty : Take(_pending.Length);

    private string Take(int length)
    {
        var text = _pending.ToString(0, length);
        _pending.Remove(0, length);
        return text;
    }
}
