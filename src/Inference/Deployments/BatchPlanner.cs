namespace WebConsole.Inference.Deployments;

/// <summary>Forms one batch from the waiting items, as TEI does: the oldest first, then the items of the most similar length.</summary>
internal static class BatchPlanner
{
    /// <summary>
    /// Picks indexes of <paramref name="tokens"/> (waiting items, oldest first) for one batch. The oldest item is always taken,
    /// so nothing starves and an item over the budget still runs, alone. The padded cost (longest item times batch size)
    /// stays within <paramref name="maxBatchTokens"/>, and the padding within <paramref name="maxPaddingRatio"/> of the real
    /// tokens: a padded position costs as much as a real one (more in attention), and on a CPU a batch of one already keeps
    /// the cores busy, so joining items of very different lengths loses more than it gains. The indexes come back ordered
    /// by length, shortest first.
    /// </summary>
    public static List<int> Plan(IReadOnlyList<int> tokens, int maxBatchTokens, int maxBatchSize, double maxPaddingRatio = double.PositiveInfinity)
    {
        var chosen = new List<int>(Math.Min(maxBatchSize, tokens.Count)) { 0 };
        var head = tokens[0];
        var longest = head;
        long real = head;
        // Nearest in length first; among equals the shorter, then the older.
        var candidates = Enumerable.Range(1, tokens.Count - 1)
            .OrderBy(i => Math.Abs(tokens[i] - head))
            .ThenBy(i => tokens[i])
            .ThenBy(i => i);
        foreach (var index in candidates)
        {
            if (chosen.Count >= maxBatchSize)
            {
                break;
            }

            var newLongest = Math.Max(longest, tokens[index]);
            var padded = (long)newLongest * (chosen.Count + 1);
            if (padded > maxBatchTokens || padded - (real + tokens[index]) > (real + tokens[index]) * maxPaddingRatio)
            {
                continue;
            }

            chosen.Add(index);
            longest = newLongest;
            real += tokens[index];
        }

        chosen.Sort((a, b) => tokens[a] != tokens[b] ? tokens[a].CompareTo(tokens[b]) : a.CompareTo(b));
        return chosen;
    }
}
