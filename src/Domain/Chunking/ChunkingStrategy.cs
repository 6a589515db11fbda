namespace WebConsole.Domain.Chunking;

/// <summary>How long inputs are split before embedding.</summary>
public enum ChunkingStrategy
{
    /// <summary><c>sentence</c>: whole sentences packed up to a word budget.</summary>
    Sentence,

    /// <summary><c>word</c>: word windows with an overlap.</summary>
    Word,

    /// <summary><c>recursive</c>: split on separators, recursing until chunks fit.</summary>
    Recursive,

    /// <summary><c>none</c>: every input is one chunk.</summary>
    None,
}

/// <summary>Named separator lists of the recursive strategy.</summary>
public enum SeparatorGroup
{
    /// <summary><c>plaintext</c>: paragraphs, then lines.</summary>
    Plaintext,

    /// <summary><c>markdown</c>: headings from level 1 to 6, then paragraphs and lines.</summary>
    Markdown,
}
