namespace WebConsole.Domain.Text;

/// <summary>
/// A span of a string found by a <see cref="ITextSegmenter"/>: offsets are UTF-16 code units (the indexes of
/// <see cref="string"/>), <see cref="End"/> exclusive. These are the offsets the wire contract reports as
/// <c>start_offset</c> / <c>end_offset</c>, so they are never converted to code points or bytes.
/// </summary>
/// <param name="Start">Index of the first code unit of the segment.</param>
/// <param name="End">Index one past the last code unit of the segment.</param>
public readonly record struct TextSegment(int Start, int End)
{
    /// <summary>Number of UTF-16 code units in the segment.</summary>
    public int Length => End - Start;

    /// <summary>The segment's text within <paramref name="source"/>, the string it was found in.</summary>
    /// <param name="source">The string that was segmented.</param>
    /// <returns>The substring from <see cref="Start"/> to <see cref="End"/>.</returns>
    public string GetText(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return source[Start..End];
    }

    /// <summary>The segment's text within <paramref name="source"/> without copying it.</summary>
    /// <param name="source">The string that was segmented.</param>
    /// <returns>A span over the segment's code units.</returns>
    public ReadOnlySpan<char> AsSpan(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return source.AsSpan(Start, Length);
    }
}
