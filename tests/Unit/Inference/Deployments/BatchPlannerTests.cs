using WebConsole.Inference.Deployments;

namespace WebConsole.Unit.Inference.Deployments;

public sealed class BatchPlannerTests
{
    [Fact]
    public void The_oldest_item_leads_and_items_of_similar_length_fill_the_token_budget()
    {
        int[] tokens = [16, 2, 15, 3, 14, 4, 16, 2];

        var plan = BatchPlanner.Plan(tokens, maxBatchTokens: 64, maxBatchSize: 8);

        // 16 leads; 16, 15 and 14 fit (16 x 4 = 64); the short ones would pad to 16 and break the budget.
        Assert.Equal([4, 2, 0, 6], plan);
    }

    [Fact]
    public void An_item_longer_than_the_budget_runs_alone()
    {
        Assert.Equal([0], BatchPlanner.Plan([100, 1, 1], maxBatchTokens: 64, maxBatchSize: 8));
    }

    [Fact]
    public void The_batch_size_caps_a_batch()
    {
        Assert.Equal([0, 1, 2, 3], BatchPlanner.Plan([5, 5, 5, 5, 5, 5], maxBatchTokens: 1_000, maxBatchSize: 4));
    }

    [Fact]
    public void Items_that_would_pad_the_batch_beyond_the_ratio_wait_for_a_batch_of_their_own_length()
    {
        int[] tokens = [100, 20, 98, 60, 95, 101, 30];

        // Without a padding limit the budget takes every item; with 20%, 60 still joins the ~100s (5 x 101 positions for 454
        // real tokens: 11% padding) while 30 and 20 would pass 20% and wait.
        Assert.Equal(7, BatchPlanner.Plan(tokens, maxBatchTokens: 10_000, maxBatchSize: 8).Count);
        Assert.Equal([3, 4, 2, 0, 5], BatchPlanner.Plan(tokens, maxBatchTokens: 10_000, maxBatchSize: 8, maxPaddingRatio: 0.2));
    }

    [Fact]
    public void With_no_padding_allowed_only_equal_lengths_share_a_batch()
    {
        Assert.Equal([0, 2], BatchPlanner.Plan([7, 8, 7, 6], maxBatchTokens: 1_000, maxBatchSize: 8, maxPaddingRatio: 0));
    }

    [Fact]
    public void Draining_a_mixed_queue_takes_every_item_once_within_the_limits()
    {
        var random = new Random(42);
        var lengths = Enumerable.Range(0, 300).Select(_ => random.Next(1, 130)).ToList();
        var queue = lengths.Select((tokens, i) => (Id: i, Tokens: tokens)).ToList();
        var taken = new List<int>();
        long padding = 0;
        while (queue.Count > 0)
        {
            var oldest = queue[0].Id;
            var plan = BatchPlanner.Plan(queue.ConvertAll(static q => q.Tokens), maxBatchTokens: 512, maxBatchSize: 16);
            var batch = plan.Select(i => queue[i]).ToList();

            Assert.Contains(batch, item => item.Id == oldest);
            Assert.InRange(batch.Count, 1, 16);
            Assert.True(batch.Count == 1 || batch.Max(static b => b.Tokens) * batch.Count <= 512, "padded batch over the budget");
            Assert.Equal(batch.Select(static b => b.Tokens).Order(), batch.Select(static b => b.Tokens));

            taken.AddRange(batch.Select(static b => b.Id));
            padding += batch.Sum(b => batch.Max(static x => x.Tokens) - b.Tokens);
            foreach (var index in plan.OrderDescending())
            {
                queue.RemoveAt(index);
            }
        }

        Assert.Equal(Enumerable.Range(0, 300), taken.Order());
        // Grouping by length wastes far less on padding than batches formed in arrival order.
        Assert.True(padding * 4 < ArrivalOrderPadding(lengths), $"padding {padding} vs {ArrivalOrderPadding(lengths)} in arrival order");
    }

    private static long ArrivalOrderPadding(IReadOnlyList<int> lengths)
    {
        long padding = 0;
        var batch = new List<int>();
        foreach (var length in lengths.Append(int.MaxValue))
        {
            var fits = length != int.MaxValue && batch.Count < 16 && Math.Max(batch.DefaultIfEmpty(0).Max(), length) * (batch.Count + 1) <= 512;
            if (!fits && batch.Count > 0)
            {
                padding += batch.Sum(b => batch.Max() - b);
                batch.Clear();
            }

            batch.Add(length);
        }

        return padding;
    }
}
