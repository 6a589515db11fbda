using System.Text;
using WebConsole.Inference.Tokenization;

namespace WebConsole.Bench;

/// <summary>
/// A fixed corpus of realistic English texts (support tickets, product notes, documentation, news-style paragraphs),
/// generated from a seed so every run and every peer reads exactly the same texts. Nothing is copied from a real corpus:
/// sentences are assembled from the word lists below.
/// </summary>
internal static class Corpus
{
    private static readonly string[] Subjects =
    [
        "The customer", "Our support team", "The new release", "The billing service", "A field engineer", "The warehouse in Rotterdam",
        "The mobile app", "The quarterly report", "The search index", "The city council", "A research group", "The payment gateway",
        "The onboarding guide", "The storage cluster", "Our largest client", "The night shift", "The marketing campaign", "The API gateway",
    ];

    private static readonly string[] Verbs =
    [
        "reported", "noticed", "confirmed", "reduced", "doubled", "described", "rejected", "approved", "reviewed", "postponed",
        "migrated", "measured", "replaced", "explained", "recovered", "scheduled", "questioned", "documented",
    ];

    private static readonly string[] Objects =
    [
        "a delay in the delivery of spare parts", "the latency of the checkout page", "an invoice that was charged twice",
        "the cost of cloud storage for archived projects", "a memory leak in the background worker", "the new pricing for annual plans",
        "a password reset that never arrived", "the accuracy of the demand forecast", "the backlog of unanswered tickets",
        "a proposal to open a second office", "the results of the customer satisfaction survey", "the outage of the regional data centre",
        "the battery life of the handheld scanners", "a shipment held at customs for three days", "the contract renewal terms",
        "the error rate of the nightly import", "the training plan for new hires", "a request to export all personal data",
    ];

    private static readonly string[] Tails =
    [
        "after the update on Tuesday", "before the end of the month", "despite several reminders", "according to the latest figures",
        "while the team was on holiday", "in the European region", "for the third time this year", "without any warning",
        "as agreed in the last meeting", "during peak hours", "once the migration had finished", "at the request of the auditors",
    ];

    private static readonly string[] Questions =
    [
        "how do I reset my password", "why was my card charged twice", "when will my order arrive", "how can I export my data",
        "what is the refund policy", "which plan includes priority support", "how do I add a team member", "why is the app so slow today",
        "where can I download the invoice", "how do I cancel my subscription", "is there an API rate limit", "can I change the delivery address",
    ];

    /// <summary>A passage of about <paramref name="words"/> words (complete sentences), the same for the same seed.</summary>
    public static string Passage(Random random, int words)
    {
        var text = new StringBuilder();
        var count = 0;
        while (count < words)
        {
            var sentence = random.Next(5) switch
            {
                0 => $"{Pick(random, Subjects)} {Pick(random, Verbs)} {Pick(random, Objects)} {Pick(random, Tails)}.",
                1 => $"{Pick(random, Subjects)} {Pick(random, Verbs)} {Pick(random, Objects)}, and {Pick(random, Subjects).ToLowerInvariant()} {Pick(random, Verbs)} {Pick(random, Objects)}.",
                2 => $"Customer asked: {Pick(random, Questions)}? {Pick(random, Subjects)} {Pick(random, Verbs)} {Pick(random, Objects)}.",
                3 => $"In {2019 + random.Next(7)}, {Pick(random, Subjects).ToLowerInvariant()} {Pick(random, Verbs)} {Pick(random, Objects)} by {random.Next(2, 60)} percent {Pick(random, Tails)}.",
                _ => $"Note {random.Next(100, 999)}: {Pick(random, Objects)} was {Pick(random, Verbs)} {Pick(random, Tails)}.",
            };
            if (text.Length > 0)
            {
                text.Append(' ');
            }

            text.Append(sentence);
            count += sentence.Count(c => c == ' ') + 1;
        }

        return text.ToString();
    }

    /// <summary>
    /// <paramref name="count"/> documents with a realistic spread of lengths (short queries to long paragraphs, about 8 to
    /// 300 words, most under 100), seeded.
    /// </summary>
    public static IReadOnlyList<string> Documents(int count, int seed = 20_261_122)
    {
        var random = new Random(seed);
        var texts = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var words = random.Next(10) switch
            {
                < 3 => random.Next(6, 20),
                < 8 => random.Next(20, 100),
                _ => random.Next(100, 300),
            };
            texts.Add(Passage(random, words));
        }

        return texts;
    }

    /// <summary>Short questions for rerank queries and chat prompts.</summary>
    public static string Question(Random random)
    {
        var question = Pick(random, Questions);
        return char.ToUpperInvariant(question[0]) + question[1..] + "?";
    }

    /// <summary>A text that the tokenizer turns into at least <paramref name="tokens"/> tokens.</summary>
    public static string TextOfAtLeast(ITokenizer tokenizer, int tokens, int seed)
    {
        var random = new Random(seed);
        var text = Passage(random, tokens);
        while (tokenizer.Encode(text).Length < tokens)
        {
            text += " " + Passage(random, tokens / 2 + 4);
        }

        return text;
    }

    private static string Pick(Random random, string[] values) => values[random.Next(values.Length)];
}
