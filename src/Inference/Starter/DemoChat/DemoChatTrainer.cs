using static WebConsole.Inference.Starter.DemoChat.DemoChatSettings;
using Vocabulary = WebConsole.Inference.Starter.DemoChat.DemoChatVocabulary;

namespace WebConsole.Inference.Starter.DemoChat;

/// <summary>
/// Counts the corpus and turns the counts into the model's tables. The next-word distribution is built in layers:
/// <list type="number">
/// <item>an interpolated Kneser-Ney bigram of the current word: its most frequent successors exact, the rest of the row
/// the discounted continuation unigram shaped by a low-rank (truncated SVD) bigram PMI, each row normalized;</item>
/// <item>an interpolated Kneser-Ney trigram over it for every word pair seen often enough: the pair's successors exact,
/// everything else the bigram row scaled by the pair's backoff weight;</item>
/// <item>the topic: a low-rank factorization of the PPMI of content words within a few words of each other; the graph
/// reads it for the content words of the user's and system messages and adds its scores to the logits;</item>
/// <item>a penalty on words used in the last few tokens, so even greedy decoding keeps moving.</item>
/// </list>
/// Answers are the book's paragraphs cut into runs of a few sentences, each opened by the assistant marker and closed
/// by the end token, so the model learns where answers start and stop.
/// </summary>
internal static class DemoChatTrainer
{
    public static DemoChatWeights Train(IReadOnlyList<string[]> paragraphs, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        var vocabulary = Vocabulary.FromCorpus(paragraphs, VocabularySize);
        var v = vocabulary.Count;
        var encoded = paragraphs.Select(p => p.Select(vocabulary.Id).ToArray()).ToArray();
        var frequencies = new long[v];
        long tokens = 0, known = 0;
        foreach (var paragraph in encoded)
        {
            foreach (var id in paragraph)
            {
                frequencies[id]++;
                tokens++;
                known += id == Vocabulary.Unknown ? 0 : 1;
            }
        }

        var answers = Answers(paragraphs, encoded);
        var bigramCounts = BigramCounts(answers, v);
        var (bigramEmbeddings, bigramOutput) = Factorize(BigramMatrix(bigramCounts), BigramWeight, seed: 0x5EED_0001);
        progress?.Report(0.35);
        cancellationToken.ThrowIfCancellationRequested();

        var bigram = Bigrams(bigramCounts, vocabulary, bigramEmbeddings, bigramOutput, cancellationToken);
        progress?.Report(0.55);
        var trigram = Trigrams(answers, bigram, v, cancellationToken);
        progress?.Report(0.7);

        var (topicEmbeddings, topicOutput) = Factorize(TopicMatrix(encoded, vocabulary), TopicWeight, seed: 0x5EED_0002);
        progress?.Report(0.95);

        var salience = new float[v];
        var repeat = new float[v];
        var bias = new float[v];
        for (var id = 0; id < v; id++)
        {
            var word = vocabulary.IsWord(id);
            salience[id] = word && !vocabulary.IsFunctionWord(id) && frequencies[id] > 0 ? SalienceScale * (float)Math.Log((double)tokens / frequencies[id]) : NoSalience;
            repeat[id] = Vocabulary.IsSpecial(id) ? 0 : !word ? RepeatPunctuation : vocabulary.IsFunctionWord(id) ? RepeatFunction : RepeatContent;
            bias[id] = Vocabulary.IsSpecial(id) && id != Vocabulary.End ? Never : 0;
        }

        var distinct = paragraphs.SelectMany(p => p).Distinct(StringComparer.Ordinal).Count();
        var statistics = new DemoChatCorpusStatistics(
            paragraphs.Count, tokens, distinct, tokens == 0 ? 0 : (double)known / tokens, answers.Count, trigram.Contexts);
        return new DemoChatWeights(vocabulary, bigram, trigram, topicEmbeddings, topicOutput, salience, repeat, bias, statistics);
    }

    /// <summary>
    /// Paragraphs cut into answers of a few sentences: [assistant] words... [end]. Leading punctuation is dropped, and an
    /// answer that starts in lower case (a sentence cut after a quoted question) is opened by [UNK] instead, so its words
    /// still count but it teaches nothing about how answers begin.
    /// </summary>
    private static List<int[]> Answers(IReadOnlyList<string[]> paragraphs, int[][] encoded)
    {
        List<int[]> answers = [];
        var cycle = 0;
        for (var p = 0; p < paragraphs.Count; p++)
        {
            var sentences = DemoChatText.Sentences(paragraphs[p]);
            var index = 0;
            while (index < sentences.Count)
            {
                var take = Math.Min(SentencesPerAnswer[cycle++ % SentencesPerAnswer.Length], sentences.Count - index);
                var start = sentences[index].Offset;
                var end = sentences[index + take - 1].Offset + sentences[index + take - 1].Count;
                index += take;
                while (start < end && !DemoChatText.IsWord(paragraphs[p][start]))
                {
                    start++;
                }

                if (start < end)
                {
                    var opener = char.IsUpper(paragraphs[p][start][0]) ? Vocabulary.Assistant : Vocabulary.Unknown;
                    answers.Add([opener, .. encoded[p].AsSpan(start, end - start), Vocabulary.End]);
                }
            }
        }

        return answers;
    }

    /// <summary>Bigram counts within answers; pairs with an unknown word are left out rather than taught.</summary>
    private static Dictionary<int, int>[] BigramCounts(List<int[]> answers, int v)
    {
        var rows = new Dictionary<int, int>[v];
        for (var u = 0; u < v; u++)
        {
            rows[u] = [];
        }

        foreach (var answer in answers)
        {
            for (var i = 0; i + 1 < answer.Length; i++)
            {
                if (answer[i] != Vocabulary.Unknown && answer[i + 1] != Vocabulary.Unknown)
                {
                    var row = rows[answer[i]];
                    row[answer[i + 1]] = row.GetValueOrDefault(answer[i + 1]) + 1;
                }
            }
        }

        return rows;
    }

    /// <summary>
    /// Interpolated Kneser-Ney bigram: P(w|u) = max(c(u,w) - D, 0) / c(u) + γ(u) P_lower(w). The <see cref="Successors"/>
    /// most frequent successors of each word are kept exactly; the discounted mass of the others joins γ(u). The lower
    /// order is Kneser-Ney's continuation unigram, except after the assistant marker and . ! ? where it is the
    /// distribution of sentence-initial words (so a new sentence backs off to capitalized words). The backed-off part is
    /// shaped by the low-rank bigram PMI (as the graph computes it), so its mass goes to words that fit after u rather than
    /// to frequent ones; every row is then normalized over the tokens the model may produce.
    /// </summary>
    private static BigramTable Bigrams(
        Dictionary<int, int>[] rows, Vocabulary vocabulary, float[] shapeEmbeddings, float[] shapeOutput, CancellationToken cancellationToken)
    {
        var v = rows.Length;
        var classes = new int[v];
        foreach (var start in new[] { Vocabulary.Assistant, vocabulary.Id("."), vocabulary.Id("!"), vocabulary.Id("?") })
        {
            if (start != Vocabulary.Unknown)
            {
                classes[start] = 1;
            }
        }

        // Class 0: how many distinct words each word follows (Kneser-Ney); class 1: how often it follows a sentence start.
        var lowerCounts = new double[2][];
        lowerCounts[0] = new double[v];
        lowerCounts[1] = new double[v];
        for (var u = 0; u < v; u++)
        {
            foreach (var (w, c) in rows[u])
            {
                lowerCounts[0][w]++;
                if (classes[u] == 1)
                {
                    lowerCounts[1][w] += c;
                }
            }
        }

        var lower = new double[2][];
        var unigram = new float[2 * v];
        for (var k = 0; k < 2; k++)
        {
            lower[k] = new double[v];
            double total = 0;
            for (var w = 0; w < v; w++)
            {
                // A little mass for every producible token, so no word is impossible after any other.
                lower[k][w] = Vocabulary.IsSpecial(w) && w != Vocabulary.End ? 0 : lowerCounts[k][w] + (k == 0 ? 0.1 : 0.01);
                total += lower[k][w];
            }

            for (var w = 0; w < v; w++)
            {
                lower[k][w] /= total;
                unigram[(k * v) + w] = lower[k][w] > 0 ? (float)Math.Log(lower[k][w]) : Never;
            }
        }

        var table = new BigramTable(new int[v * Successors], new float[v * Successors], new float[v], classes, unigram, shapeEmbeddings, shapeOutput);
        Parallel.For(0, v, new ParallelOptions { CancellationToken = cancellationToken }, u =>
        {
            var row = rows[u].OrderByDescending(e => e.Value).ThenBy(e => e.Key).ToArray();
            double count = row.Sum(e => (double)e.Value);
            var kept = Math.Min(Successors, row.Length);
            double gamma = 1;
            if (count > 0)
            {
                var rest = row.Skip(kept).Sum(e => Math.Max(e.Value - Discount, 0));
                gamma = ((Discount * row.Length) + rest) / count;
            }

            // The shaped backoff exp(unigram + shape) over the words not kept, against the plain one: their ratio
            // renormalizes the shape so the backed-off words still get γ(u) P_cont(not kept) between them.
            var shaped = table.Shape(u);
            var keptIds = row.Take(kept).Select(e => e.Key).ToHashSet();
            var distribution = lower[classes[u]];
            double plain = 0, reshaped = 0;
            for (var w = 0; w < v; w++)
            {
                if (distribution[w] > 0 && !keptIds.Contains(w))
                {
                    var p = distribution[w];
                    plain += p;
                    reshaped += p * Math.Exp(shaped[w]);
                }
            }

            table.Backoff[u] = (float)(Math.Log(gamma) + (reshaped > 0 ? Math.Log(plain / reshaped) : 0));
            for (var slot = 0; slot < Successors; slot++)
            {
                var at = (u * Successors) + slot;
                if (slot < kept)
                {
                    var (w, c) = (row[slot].Key, row[slot].Value);
                    table.Ids[at] = w;
                    table.Logits[at] = (float)Math.Log((Math.Max(c - Discount, 0) / count) + (gamma * distribution[w]));
                }
                else
                {
                    // Unused slots all point at [PAD] with the same value, so the scatter's result does not depend on order.
                    table.Ids[at] = Vocabulary.Pad;
                    table.Logits[at] = Never;
                }
            }

            // Exactly normalized: the trigram above relies on these being log-probabilities.
            var logZ = LogSumExp(table.Row(u, shaped));
            table.Backoff[u] -= (float)logZ;
            for (var slot = 0; slot < kept; slot++)
            {
                table.Logits[(u * Successors) + slot] -= (float)logZ;
            }
        });

        return table;
    }

    /// <summary>
    /// Interpolated Kneser-Ney trigram over the bigram rows, for every word pair seen at least
    /// <see cref="TrigramMinimumCount"/> times: P(w|t,u) = max(c(t,u,w) - D, 0) / c(t,u) + γ(t,u) P(w|u). The pair's
    /// <see cref="TrigramSuccessors"/> most frequent successors are exact; the rest of the row is the bigram row plus log γ.
    /// Pairs are sorted by key (t·V + u) so the graph finds them by binary search.
    /// </summary>
    private static TrigramTable Trigrams(List<int[]> answers, BigramTable bigram, int v, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<long, Dictionary<int, int>>();
        foreach (var answer in answers)
        {
            for (var i = 0; i + 2 < answer.Length; i++)
            {
                if (answer[i] == Vocabulary.Unknown || answer[i + 1] == Vocabulary.Unknown || answer[i + 2] == Vocabulary.Unknown)
                {
                    continue;
                }

                var key = ((long)answer[i] * v) + answer[i + 1];
                if (!counts.TryGetValue(key, out var row))
                {
                    counts[key] = row = [];
                }

                row[answer[i + 2]] = row.GetValueOrDefault(answer[i + 2]) + 1;
            }
        }

        var contexts = counts.Where(c => c.Value.Values.Sum() >= TrigramMinimumCount).Select(c => c.Key).Order().ToArray();

        // One sentinel row past the end: the graph's search answers it for a pair not in the table (or after the last).
        var size = contexts.Length + 1;

        var table = new TrigramTable(new long[size], new int[size * TrigramSuccessors], new float[size * TrigramSuccessors], new float[size], contexts.Length);
        Array.Fill(table.Keys, long.MaxValue);
        Array.Fill(table.Logits, Never);
        // Grouped by the pair's second word, so each bigram row is computed once.
        var groups = Enumerable.Range(0, contexts.Length).GroupBy(index => (int)(contexts[index] % v)).ToArray();
        Parallel.ForEach(groups, new ParallelOptions { CancellationToken = cancellationToken }, group =>
        {
            var lower = bigram.Row(group.Key, bigram.Shape(group.Key));
            foreach (var index in group)
            {
                var key = contexts[index];
                var row = counts[key].OrderByDescending(e => e.Value).ThenBy(e => e.Key).ToArray();
                double count = row.Sum(e => (double)e.Value);
                var kept = Math.Min(TrigramSuccessors, row.Length);
                var gamma = ((Discount * row.Length) + row.Skip(kept).Sum(e => Math.Max(e.Value - Discount, 0))) / count;
                table.Keys[index] = key;
                table.Backoff[index] = (float)Math.Log(gamma);
                for (var slot = 0; slot < kept; slot++)
                {
                    var (w, c) = (row[slot].Key, row[slot].Value);
                    table.Ids[(index * TrigramSuccessors) + slot] = w;
                    table.Logits[(index * TrigramSuccessors) + slot] = (float)Math.Log(((c - Discount) / count) + (gamma * Math.Exp(lower[w])));
                }
            }
        });

        return table;
    }

    private static double LogSumExp(float[] logits)
    {
        var max = logits.Max();
        double sum = 0;
        foreach (var logit in logits)
        {
            sum += Math.Exp(logit - max);
        }

        return max + Math.Log(sum);
    }

    /// <summary>
    /// The bigram PMI shrunk towards zero: log((c + a) / (E + a)), E the count expected under independence. Rare pairs
    /// stay near zero; pairs expected often but never seen go negative. Dense: every pair of seen rows and columns has a
    /// value, and only the low-rank factors of it are kept.
    /// </summary>
    private static DenseMatrix BigramMatrix(Dictionary<int, int>[] rows)
    {
        var v = rows.Length;
        var rowTotals = new double[v];
        var columnTotals = new double[v];
        for (var u = 0; u < v; u++)
        {
            foreach (var (w, c) in rows[u])
            {
                rowTotals[u] += c;
                columnTotals[w] += c;
            }
        }

        var total = rowTotals.Sum();
        var values = new float[v * v];
        if (total == 0)
        {
            return new DenseMatrix(v, values);
        }

        Parallel.For(0, v, u =>
        {
            if (rowTotals[u] == 0)
            {
                return;
            }

            var row = values.AsSpan(u * v, v);
            for (var w = 0; w < v; w++)
            {
                if (columnTotals[w] > 0)
                {
                    row[w] = (float)Math.Log(BigramPseudoCount / ((rowTotals[u] * columnTotals[w] / total) + BigramPseudoCount));
                }
            }

            foreach (var (w, c) in rows[u])
            {
                var expected = rowTotals[u] * columnTotals[w] / total;
                row[w] = (float)Math.Log((c + BigramPseudoCount) / (expected + BigramPseudoCount));
            }
        });
        return new DenseMatrix(v, values);
    }

    /// <summary>PPMI of content words within <see cref="TopicWindow"/> words of each other in a paragraph (symmetric).</summary>
    private static SparseMatrix TopicMatrix(int[][] encoded, Vocabulary vocabulary)
    {
        var v = vocabulary.Count;
        var rows = new Dictionary<int, int>[v];
        for (var u = 0; u < v; u++)
        {
            rows[u] = [];
        }

        foreach (var paragraph in encoded)
        {
            var words = paragraph.Where(id => vocabulary.IsWord(id) && !vocabulary.IsFunctionWord(id)).ToArray();
            for (var i = 0; i < words.Length; i++)
            {
                for (var j = i + 1; j < words.Length && j <= i + TopicWindow; j++)
                {
                    rows[words[i]][words[j]] = rows[words[i]].GetValueOrDefault(words[j]) + 1;
                    rows[words[j]][words[i]] = rows[words[j]].GetValueOrDefault(words[i]) + 1;
                }
            }
        }

        var totals = rows.Select(r => (double)r.Values.Sum()).ToArray();
        var total = totals.Sum();
        var starts = new int[v + 1];
        List<int> columns = [];
        List<float> values = [];
        for (var u = 0; u < v; u++)
        {
            foreach (var (w, c) in rows[u].OrderBy(e => e.Key))
            {
                var expected = totals[u] * totals[w] / total;
                var ppmi = Math.Log((c + TopicPseudoCount) / (expected + TopicPseudoCount));
                if (ppmi > 0)
                {
                    columns.Add(w);
                    values.Add((float)ppmi);
                }
            }

            starts[u + 1] = columns.Count;
        }

        return new SparseMatrix(v, starts, [.. columns], [.. values]);
    }

    /// <summary>M ≈ (U √S)(V √S)ᵀ: embeddings [vocabulary, HeadDim] and the output matrix [HeadDim, vocabulary] times <paramref name="weight"/>.</summary>
    private static (float[] Embeddings, float[] Output) Factorize(ILinearOperator matrix, float weight, ulong seed)
    {
        var v = matrix.Size;
        var (u, s, right) = TruncatedSvd.Compute(matrix, HeadDim, seed);
        var embeddings = new float[v * HeadDim];
        var output = new float[HeadDim * v];
        for (var c = 0; c < HeadDim; c++)
        {
            var root = MathF.Sqrt(s[c]);
            for (var row = 0; row < v; row++)
            {
                embeddings[(row * HeadDim) + c] = u[(row * HeadDim) + c] * root;
                output[(c * v) + row] = right[(row * HeadDim) + c] * root * weight;
            }
        }

        return (embeddings, output);
    }
}
