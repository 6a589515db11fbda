using System.Text;
using System.Text.Json;
using WebConsole.Inference.ModelStore;

namespace WebConsole.Inference.Starter;

/// <summary>
/// A table of word vectors: the most frequent words of a wink-embeddings JSON file (GloVe-derived; its <c>words</c>
/// array is in corpus frequency order) that a filter admits, with their vectors in one row-major float array. Read as a
/// stream, never as one string. Immutable once read; thread-safe.
/// </summary>
public sealed class WordVectors
{
    private const int BufferSize = 1 << 20;

    private WordVectors(string[] words, int[] ranks, ReadOnlyMemory<float> vectors, int dimensions, int sourceSize)
    {
        Words = words;
        Ranks = ranks;
        Vectors = vectors;
        Dimensions = dimensions;
        SourceSize = sourceSize;
    }

    /// <summary>The words kept, most frequent first.</summary>
    public IReadOnlyList<string> Words { get; }

    /// <summary>Each word's 0-based frequency rank in the source (among all its words, filtered or not).</summary>
    public IReadOnlyList<int> Ranks { get; }

    /// <summary>The vectors, row-major: word <c>i</c> at <c>[i * Dimensions, (i + 1) * Dimensions)</c>.</summary>
    public ReadOnlyMemory<float> Vectors { get; }

    /// <summary>The vector length.</summary>
    public int Dimensions { get; }

    /// <summary>How many words the source holds in all (for frequency estimates from ranks).</summary>
    public int SourceSize { get; }

    /// <summary>The number of words kept.</summary>
    public int Count => Words.Count;

    /// <summary>The vector of word <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> this[int index] => Vectors.Span.Slice(index * Dimensions, Dimensions);

    /// <summary>The first <paramref name="count"/> words (the most frequent); the vectors are shared, not copied.</summary>
    public WordVectors Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count >= Count)
        {
            return this;
        }

        var words = (string[])Words;
        var ranks = (int[])Ranks;
        return new WordVectors(words[..count], ranks[..count], Vectors[..(count * Dimensions)], Dimensions, SourceSize);
    }

    /// <summary>
    /// Reads a wink-embeddings JSON file (<c>{"dimensions": d, "words": [...], "vectors": {"word": [v1..vd, norm, index]}}</c>):
    /// the first <paramref name="maxWords"/> words of the frequency-ordered <c>words</c> list that <paramref name="accept"/>
    /// admits, and their vectors. Reading stops once every kept word has its vector. Progress counts bytes of the file.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not in that form, or a kept word has no vector.</exception>
    public static async Task<WordVectors> ReadAsync(
        string path,
        int maxWords,
        Func<string, bool>? accept = null,
        IProgress<ModelTransferProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxWords, 1);
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan | FileOptions.Asynchronous);
        var parser = new Parser(maxWords, accept ?? (_ => true));
        var buffer = new byte[BufferSize];
        var filled = 0;
        long consumedTotal = 0;
        var final = false;
        var phase = $"reading word vectors ({Path.GetFileName(path)})";
        progress?.Report(new ModelTransferProgress(0, stream.Length, phase));
        while (!parser.Done)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken);
            filled += read;
            final = read == 0;
            var consumed = parser.Feed(buffer.AsSpan(0, filled), final);
            consumedTotal += consumed;
            if (final && !parser.Done)
            {
                throw new InvalidDataException($"{path} ended before the vectors of all kept words were read.");
            }

            // Keep the unread tail (a token cut by the buffer's end); grow the buffer when one token fills it.
            var rest = filled - consumed;
            if (rest == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2);
            }
            else if (rest > 0)
            {
                buffer.AsSpan(consumed, rest).CopyTo(buffer);
            }

            filled = rest;
            progress?.Report(new ModelTransferProgress(consumedTotal, stream.Length, phase));
        }

        progress?.Report(new ModelTransferProgress(stream.Length, stream.Length, phase));
        return parser.Result(path);
    }

    // A resumable pull parser: Feed consumes what it can of each buffer and keeps its place between calls.
    private sealed class Parser(int maxWords, Func<string, bool> accept)
    {
        private readonly List<string> _words = [];
        private readonly List<int> _ranks = [];
        private readonly Dictionary<string, int> _slots = new(StringComparer.Ordinal);
        private JsonReaderState _state = new(new JsonReaderOptions { MaxDepth = 8 });
        private Section _section = Section.Root;
        private string? _property;
        private int _dimensions = -1;
        private int _sourceSize;
        private float[]? _vectors;
        private bool[]? _filled;
        private int _filledCount;
        private int _row = -1;
        private int _column;
        private char[] _chars = new char[256];
        private int _skipDepth;

        private enum Section
        {
            Root,
            Words,
            Vectors,
            VectorValues,
            Skip,
        }

        public bool Done { get; private set; }

        public int Feed(ReadOnlySpan<byte> data, bool final)
        {
            var reader = new Utf8JsonReader(data, final, _state);
            while (!Done && reader.Read())
            {
                Step(ref reader);
            }

            _state = reader.CurrentState;
            return (int)reader.BytesConsumed;
        }

        public WordVectors Result(string path)
        {
            if (_vectors is null || _filledCount < _words.Count)
            {
                throw new InvalidDataException($"{path}: {_words.Count - _filledCount} kept words have no vector.");
            }

            return new WordVectors([.. _words], [.. _ranks], _vectors, _dimensions, _sourceSize);
        }

        private void Step(ref Utf8JsonReader reader)
        {
            switch (_section)
            {
                case Section.Root:
                    Root(ref reader);
                    break;
                case Section.Words:
                    if (reader.TokenType == JsonTokenType.EndArray)
                    {
                        _section = Section.Root;
                        Allocate();
                    }
                    else
                    {
                        var word = reader.GetString()!;
                        if (_words.Count < maxWords && accept(word) && !_slots.ContainsKey(word))
                        {
                            _slots[word] = _words.Count;
                            _words.Add(word);
                            _ranks.Add(_sourceSize);
                        }

                        _sourceSize++;
                    }

                    break;
                case Section.Vectors:
                    if (reader.TokenType == JsonTokenType.EndObject)
                    {
                        _section = Section.Root;
                    }
                    else if (reader.TokenType == JsonTokenType.PropertyName)
                    {
                        _row = Slot(ref reader);
                    }
                    else if (reader.TokenType == JsonTokenType.StartArray)
                    {
                        _column = 0;
                        _section = Section.VectorValues;
                    }

                    break;
                case Section.VectorValues:
                    if (reader.TokenType == JsonTokenType.EndArray)
                    {
                        _section = Section.Vectors;
                        if (_row >= 0)
                        {
                            if (_column < _dimensions)
                            {
                                throw new InvalidDataException($"The vector of '{_words[_row]}' has {_column} values, not {_dimensions}.");
                            }

                            if (!_filled![_row])
                            {
                                _filled[_row] = true;
                                _filledCount++;
                            }

                            // The vectors follow the words' order, so the rest of the file is not needed.
                            Done = _filledCount == _words.Count;
                        }
                    }
                    else
                    {
                        if (_row >= 0 && _column < _dimensions)
                        {
                            _vectors![(_row * _dimensions) + _column] = reader.GetSingle();
                        }

                        _column++;
                    }

                    break;
                case Section.Skip:
                    // A value the table does not need, possibly cut by the buffer's end: read on to its closing token.
                    if (reader.TokenType is JsonTokenType.EndArray or JsonTokenType.EndObject && reader.CurrentDepth == _skipDepth)
                    {
                        _section = Section.Root;
                    }

                    break;
            }
        }

        private void Root(ref Utf8JsonReader reader)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    _property = reader.GetString();
                    break;
                case JsonTokenType.Number when _property == "dimensions":
                    _dimensions = reader.GetInt32();
                    break;
                case JsonTokenType.StartArray when _property == "words":
                    _section = Section.Words;
                    break;
                case JsonTokenType.StartObject when _property == "vectors":
                    if (_vectors is null)
                    {
                        throw new InvalidDataException("\"vectors\" comes before \"words\" and \"dimensions\".");
                    }

                    _section = Section.Vectors;
                    break;
                case JsonTokenType.StartArray or JsonTokenType.StartObject when reader.CurrentDepth > 0:
                    _section = Section.Skip;
                    _skipDepth = reader.CurrentDepth;
                    break;
                case JsonTokenType.EndObject when reader.CurrentDepth == 0:
                    Done = true;
                    break;
            }
        }

        private void Allocate()
        {
            if (_dimensions <= 0)
            {
                throw new InvalidDataException("\"dimensions\" is missing or comes after \"words\".");
            }

            _vectors = new float[_words.Count * _dimensions];
            _filled = new bool[_words.Count];
            Done = _words.Count == 0;
        }

        private int Slot(ref Utf8JsonReader reader)
        {
            // The reader works on one contiguous buffer, so a name is one span; only escaped names need unescaping.
            if (reader.ValueIsEscaped)
            {
                return _slots.TryGetValue(reader.GetString()!, out var escaped) ? escaped : -1;
            }

            var bytes = reader.ValueSpan;
            if (_chars.Length < bytes.Length)
            {
                _chars = new char[bytes.Length * 2];
            }

            var count = Encoding.UTF8.GetChars(bytes, _chars);
            return _slots.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(_chars.AsSpan(0, count), out var slot) ? slot : -1;
        }
    }
}
