using System.Globalization;
using System.Text;
using WebConsole.Domain.Endpoints;
using WebConsole.Domain.Usage;

namespace WebConsole.Infrastructure.Usage;

/// <summary>
/// Writes usage records as RFC 4180 CSV (comma separated, CRLF line ends, quoted fields where needed). Text fields that a
/// spreadsheet would run as a formula (starting with <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, a tab or a carriage return) are
/// written with a leading apostrophe, since ids and model names come from users.
/// </summary>
public static class UsageCsv
{
    /// <summary>The header row's columns, in order.</summary>
    public static IReadOnlyList<string> Columns { get; } =
    [
        "occurred_at", "request_id", "team_id", "api_key_id", "user_id", "inference_id", "model_id", "task_type", "surface",
        "input_tokens", "output_tokens", "cost", "currency", "outcome", "input_price_per_million", "output_price_per_million",
        "billing_dimension",
    ];

    /// <summary>Writes the header and one row per record, flushing every few hundred rows so the export streams.</summary>
    public static async Task WriteAsync(TextWriter writer, IAsyncEnumerable<UsageRecord> records, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(records);
        await writer.WriteAsync(string.Join(',', Columns) + "\r\n");
        var line = new StringBuilder();
        var written = 0;
        await foreach (var record in records.WithCancellation(ct))
        {
            line.Clear();
            AppendRow(line, record);
            await writer.WriteAsync(line.ToString());
            if (++written % 500 == 0)
            {
                await writer.FlushAsync(ct);
            }
        }

        await writer.FlushAsync(ct);
    }

    /// <summary>
    /// Neutralises a text field a spreadsheet would evaluate (leading <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, tab or carriage
    /// return) with a leading apostrophe, then quotes it when it holds a comma, a quote, a line break or surrounding spaces;
    /// quotes inside are doubled. Numbers are written directly, never through this.
    /// </summary>
    public static string Escape(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return string.Empty;
        }

        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }

        var needsQuotes = value.AsSpan().IndexOfAny(",\"\r\n") >= 0 || value[0] == ' ' || value[^1] == ' ';
        return needsQuotes ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }

    private static void AppendRow(StringBuilder line, UsageRecord r)
    {
        var c = CultureInfo.InvariantCulture;
        line.Append(Escape(r.OccurredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", c))).Append(',')
            .Append(Escape(r.RequestId)).Append(',')
            .Append(Escape(r.TeamId.ToString())).Append(',')
            .Append(Escape(r.ApiKeyId)).Append(',')
            .Append(Escape(r.UserId?.ToString())).Append(',')
            .Append(Escape(r.InferenceId)).Append(',')
            .Append(Escape(r.ModelId)).Append(',')
            .Append(Escape(r.TaskType.ToWireName())).Append(',')
            .Append(Escape(SurfaceName(r.Surface))).Append(',')
            .Append(r.InputTokens.ToString(c)).Append(',')
            .Append(r.OutputTokens.ToString(c)).Append(',')
            .Append(r.Cost.ToString(c)).Append(',')
            .Append(Escape(r.Currency)).Append(',')
            .Append(Escape(OutcomeName(r.Outcome))).Append(',')
            .Append(r.InputPricePerMillion.ToString(c)).Append(',')
            .Append(r.OutputPricePerMillion.ToString(c)).Append(',')
            .Append(Escape(r.BillingDimension))
            .Append("\r\n");
    }

    // A stream still running, or left so by a server that stopped mid-stream (billed up to its last checkpoint).
    private static string OutcomeName(UsageOutcome outcome) => outcome == UsageOutcome.InProgress ? "in_progress" : outcome.ToString().ToLowerInvariant();

    private static string SurfaceName(Surface surface) => surface switch
    {
        Surface.OpenAI => "openai",
        _ => surface.ToString().ToLowerInvariant(),
    };
}
