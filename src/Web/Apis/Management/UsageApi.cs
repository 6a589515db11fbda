using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using WebConsole.Domain;
using WebConsole.Domain.Endpoints;
using WebConsole.Infrastructure.Usage;
using WebConsole.Web.Security;

namespace WebConsole.Web.Apis.Management;

/// <summary>
/// <c>/api/usage</c>: the caller's organization's usage ledger as totals and groups (by day, model, endpoint, team, key or
/// task type) and as a streamed CSV export of the records, with the same filters. Default range: the last 30 days.
/// </summary>
internal static class UsageApi
{
    public static RouteGroupBuilder MapUsageApi(this RouteGroupBuilder api)
    {
        api.MapGet("/usage/summary", SummarizeAsync).RequireAuthorization(Policies.MonitorInference);
        api.MapGet("/usage/records.csv", ExportAsync).RequireAuthorization(Policies.MonitorInference);
        return api;
    }

    private static async Task<Ok<UsageSummaryResponse>> SummarizeAsync(HttpContext context, UsageQueryService usage, string? group_by)
    {
        var query = ParseQuery(context.Request.Query);
        var grouping = UsageQueryService.ParseGrouping(group_by);
        var summary = await usage.SummarizeAsync(ManagementApi.Caller(context), query, grouping, context.RequestAborted);
        return TypedResults.Ok(UsageSummaryResponse.Of(summary));
    }

    // Filters are checked before the first byte: once the CSV has started, an error can no longer become a ProblemDetails.
    private static PushStreamHttpResult ExportAsync(HttpContext context, UsageQueryService usage)
    {
        var query = ParseQuery(context.Request.Query);
        var caller = ManagementApi.Caller(context);
        var (from, to) = usage.ResolveRange(query);
        var fixedRange = query with { From = from, To = to };
        var name = string.Create(CultureInfo.InvariantCulture, $"usage-{from:yyyyMMdd}-{to:yyyyMMdd}.csv");
        return TypedResults.Stream(
            async body =>
            {
                await using var writer = new StreamWriter(body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 16 * 1024);
                await UsageCsv.WriteAsync(writer, usage.RecordsAsync(caller, fixedRange, context.RequestAborted), context.RequestAborted);
            },
            "text/csv; charset=utf-8",
            name);
    }

    // Filters arrive as text and are parsed here, so a malformed one is a 400 ProblemDetails naming the parameter.
    private static UsageQuery ParseQuery(IQueryCollection query)
    {
        var errors = new List<string>();
        var result = new UsageQuery(
            From: ParseTime(query["from"], "from", errors),
            To: ParseTime(query["to"], "to", errors),
            ModelId: Text(query["model_id"]),
            InferenceId: Text(query["inference_id"]),
            TeamId: ParseGuid(query["team_id"], "team_id", errors),
            ApiKeyId: Text(query["api_key_id"]),
            TaskType: ParseTaskType(query["task_type"], errors),
            Currency: Text(query["currency"]));
        if (errors.Count > 0)
        {
            throw DomainValidationException.FromErrors(errors);
        }

        return result;
    }

    private static string? Text(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static DateTimeOffset? ParseTime(string? value, string name, List<string> errors)
    {
        if (Text(value) is not { } text)
        {
            return null;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return time;
        }

        errors.Add($"[{name}] must be an ISO 8601 time, got [{value}]");
        return null;
    }

    private static Guid? ParseGuid(string? value, string name, List<string> errors)
    {
        if (Text(value) is not { } text)
        {
            return null;
        }

        if (Guid.TryParse(text, out var id))
        {
            return id;
        }

        errors.Add($"[{name}] must be a UUID, got [{value}]");
        return null;
    }

    private static TaskType? ParseTaskType(string? value, List<string> errors)
    {
        if (Text(value) is not { } text)
        {
            return null;
        }

        if (TaskTypes.TryParse(text, out var taskType))
        {
            return taskType;
        }

        errors.Add($"[task_type] must be one of [{string.Join(", ", TaskTypes.All.Select(t => t.ToWireName()))}], got [{value}]");
        return null;
    }
}

/// <summary><c>GET /api/usage/summary</c>: the range, currency, totals and groups.</summary>
public sealed record UsageSummaryResponse(
    [property: JsonPropertyName("from")] DateTimeOffset From,
    [property: JsonPropertyName("to")] DateTimeOffset To,
    [property: JsonPropertyName("currency")] string Currency,
    [property: JsonPropertyName("totals")] UsageTotalsResponse Totals,
    [property: JsonPropertyName("groups")] IReadOnlyList<UsageGroupResponse> Groups)
{
    public static UsageSummaryResponse Of(UsageSummary summary) => new(
        summary.From, summary.To, summary.Currency, UsageTotalsResponse.From(summary.Totals),
        summary.Groups.Select(g => new UsageGroupResponse(
            g.Key, g.Totals.Requests, g.Totals.InputTokens, g.Totals.OutputTokens, g.Totals.Cost)).ToArray());
}

/// <summary>Requests, tokens and cost of the whole range.</summary>
public sealed record UsageTotalsResponse(
    [property: JsonPropertyName("requests")] long Requests,
    [property: JsonPropertyName("input_tokens")] long InputTokens,
    [property: JsonPropertyName("output_tokens")] long OutputTokens,
    [property: JsonPropertyName("cost")] decimal Cost)
{
    public static UsageTotalsResponse From(UsageTotals totals) => new(totals.Requests, totals.InputTokens, totals.OutputTokens, totals.Cost);
}

/// <summary>One group: its key (a day, model, endpoint, team, key or task type; null for requests without a key).</summary>
public sealed record UsageGroupResponse(
    [property: JsonPropertyName("key")] string? Key,
    [property: JsonPropertyName("requests")] long Requests,
    [property: JsonPropertyName("input_tokens")] long InputTokens,
    [property: JsonPropertyName("output_tokens")] long OutputTokens,
    [property: JsonPropertyName("cost")] decimal Cost);
