using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using WebConsole.Web.Components.Endpoints;
using WebConsole.Web.Components.Pages;

namespace WebConsole.Unit.Portal.Endpoints;

/// <summary>
/// The endpoints table and its filter control rendered with the shared framework's <see cref="HtmlRenderer"/>: badges,
/// disabled deletes of reserved endpoints, search and filters, sorting, paging and grouping by model.
/// </summary>
public sealed class EndpointComponentsTests
{
    private static readonly EndpointLiveState Started = new("started", 1, 1, null, null);

    private static readonly EndpointRow[] Rows =
    [
        new(".starter-embedding-elasticsearch", "elasticsearch", ".starter-embedding", "text_embedding", true, false, EndOfLife.None, null, EndpointLiveState.Idle),
        new("my-e5", "elasticsearch", "team/e5", "text_embedding", false, false, EndOfLife.None, null, Started),
        new("my-e5-copy", "elasticsearch", "team/e5", "text_embedding", false, false, EndOfLife.None, null, new("starting", 0, 2, null, null)),
        new("my-rerank", "elasticsearch", "team/reranker", "rerank", false, false, EndOfLife.None, null, new(null, 0, 0, "downloading", 42.5)),
        new("old-chat", "elastic", "old-model", "chat_completion", false, false, EndOfLife.Soon, new DateOnly(2026, 12, 24), EndpointLiveState.Idle),
        new("gone-chat", "elastic", "gone-model", "chat_completion", false, true, EndOfLife.Past, new DateOnly(2026, 1, 1), EndpointLiveState.Idle),
        new("openai-embed", "openai", "text-embedding-3-small", "text_embedding", false, false, EndOfLife.None, null, EndpointLiveState.Idle),
    ];

    [Fact]
    public async Task Badges_show_preconfigured_eol_tech_preview_and_deploying_with_its_progress()
    {
        var html = await RenderTableAsync(new EndpointListQuery(), Rows, canManage: true);

        var reserved = RowHtml(html, ".starter-embedding-elasticsearch");
        Assert.Contains("data-testid=\"badge-preconfigured\"", reserved, StringComparison.Ordinal);
        Assert.Matches("data-testid=\"endpoint-delete\"[^>]*disabled|disabled[^>]*data-testid=\"endpoint-delete\"", reserved);

        var own = RowHtml(html, "my-e5");
        Assert.DoesNotContain("badge-preconfigured", own, StringComparison.Ordinal);
        Assert.DoesNotContain("disabled", own, StringComparison.Ordinal);
        Assert.DoesNotContain("badge-deploying", own, StringComparison.Ordinal);
        Assert.Contains("data-deployment-state=\"started\"", own, StringComparison.Ordinal);

        Assert.Contains("data-testid=\"badge-eol-soon\"", RowHtml(html, "old-chat"), StringComparison.Ordinal);
        Assert.Contains("2026-12-24", RowHtml(html, "old-chat"), StringComparison.Ordinal);
        var gone = RowHtml(html, "gone-chat");
        Assert.Contains("data-testid=\"badge-eol-past\"", gone, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"badge-tech-preview\"", gone, StringComparison.Ordinal);
        Assert.DoesNotContain("badge-eol-soon", gone, StringComparison.Ordinal);

        var downloading = RowHtml(html, "my-rerank");
        Assert.Contains("data-testid=\"badge-deploying\" data-percent=\"42.5\"", downloading, StringComparison.Ordinal);
        Assert.Contains("DEPLOYING 42%", downloading, StringComparison.Ordinal);
        var starting = RowHtml(html, "my-e5-copy");
        Assert.Contains("data-testid=\"badge-deploying\" data-percent=\"0\"", starting, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_caller_without_manage_inference_sees_every_delete_disabled()
    {
        var html = await RenderTableAsync(new EndpointListQuery(), Rows, canManage: false);

        Assert.Equal(Rows.Length, Count(html, "data-testid=\"endpoint-row\""));
        foreach (var row in Rows)
        {
            Assert.Matches("disabled[^>]*data-testid=\"endpoint-delete\"", RowHtml(html, row.InferenceId));
        }
    }

    [Fact]
    public async Task Search_and_the_service_and_task_type_filters_keep_only_matching_rows()
    {
        var query = new EndpointListQuery { Search = "E5", Services = ["elasticsearch"], TaskTypes = ["text_embedding"] };
        var html = await RenderTableAsync(query, Rows, canManage: true);

        Assert.Equal(["my-e5", "my-e5-copy"], Ids(html));
        Assert.Contains("data-matched=\"2\"", html, StringComparison.Ordinal);

        // The model is searched too, and each word must match.
        Assert.Equal(["my-rerank"], Ids(await RenderTableAsync(new EndpointListQuery { Search = "team reranker" }, Rows, true)));
        Assert.Equal(["gone-chat", "old-chat"], Ids(await RenderTableAsync(new EndpointListQuery { TaskTypes = ["chat_completion"] }, Rows, true)));
        var none = await RenderTableAsync(new EndpointListQuery { Search = "nothing-like-this" }, Rows, true);
        Assert.Contains("data-testid=\"endpoints-empty\"", none, StringComparison.Ordinal);

        // The options are the values present, sorted.
        Assert.Equal(["elastic", "elasticsearch", "openai"], EndpointListQuery.ServiceOptions(Rows));
        Assert.Equal(["chat_completion", "rerank", "text_embedding"], EndpointListQuery.TaskTypeOptions(Rows));
        Assert.Equal(new EndpointStats(3, 6, 7, 3), EndpointStats.Of(Rows));
    }

    [Fact]
    public async Task Sorting_flips_on_the_same_column_and_headers_say_their_order()
    {
        var query = new EndpointListQuery();
        query.ToggleSort(EndpointSortColumn.TaskType);
        var html = await RenderTableAsync(query, Rows, true);
        Assert.Equal(["gone-chat", "old-chat", "my-rerank"], Ids(html).Take(3));
        Assert.Contains("aria-sort=\"ascending\" data-testid=\"sort-tasktype\"", html, StringComparison.Ordinal);
        Assert.Contains("aria-sort=\"none\" data-testid=\"sort-endpoint\"", html, StringComparison.Ordinal);

        query.ToggleSort(EndpointSortColumn.TaskType);
        html = await RenderTableAsync(query, Rows, true);
        Assert.True(query.Descending);
        Assert.Equal("rerank", Rows.Single(r => r.InferenceId == Ids(html)[Rows.Length - 3]).TaskType);
        Assert.Equal("chat_completion", Rows.Single(r => r.InferenceId == Ids(html)[^1]).TaskType);
        Assert.Contains("aria-sort=\"descending\" data-testid=\"sort-tasktype\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pages_hold_25_50_or_100_rows_and_the_last_page_the_rest()
    {
        var many = Enumerable.Range(0, 60)
            .Select(i => new EndpointRow($"ep-{i.ToString("00", CultureInfo.InvariantCulture)}", "elasticsearch", $"model-{(i % 3).ToString(CultureInfo.InvariantCulture)}", "text_embedding", false, false, EndOfLife.None, null, EndpointLiveState.Idle))
            .ToArray();
        var query = new EndpointListQuery { PageSize = 25, PageIndex = 2 };
        var html = await RenderTableAsync(query, many, true);
        Assert.Equal(10, Ids(html).Count);
        Assert.Equal("ep-50", Ids(html)[0]);
        Assert.Equal(3, query.Apply(many).PageCount);

        query.PageSize = 50;
        query.PageIndex = 5;
        var page = query.Apply(many);
        Assert.Equal((1, 2), (page.PageIndex, page.PageCount));
        Assert.Equal(10, page.Groups.Single().Rows.Count);

        query.PageSize = 100;
        Assert.Equal(60, query.Apply(many).Groups.Single().Rows.Count);
    }

    [Fact]
    public async Task Grouping_by_model_puts_each_model_under_its_own_header()
    {
        var html = await RenderTableAsync(new EndpointListQuery { GroupByModel = true, Services = ["elasticsearch"] }, Rows, true);

        Assert.Equal(3, Count(html, "data-testid=\"endpoint-group\""));
        var e5 = html.IndexOf("data-model=\"team/e5\"", StringComparison.Ordinal);
        var reranker = html.IndexOf("data-model=\"team/reranker\"", StringComparison.Ordinal);
        Assert.True(e5 >= 0 && reranker > e5, html);
        var between = html[e5..reranker];
        Assert.Contains("data-inference-id=\"my-e5\"", between, StringComparison.Ordinal);
        Assert.Contains("data-inference-id=\"my-e5-copy\"", between, StringComparison.Ordinal);
        Assert.Contains("Model: team/e5 (2)", between, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_filter_lists_each_value_as_a_labelled_checkbox_with_the_chosen_ones_checked()
    {
        var html = await RenderAsync<EndpointFilter>(new Dictionary<string, object?>
        {
            [nameof(EndpointFilter.Label)] = "Task type",
            [nameof(EndpointFilter.TestId)] = "filter-task-type",
            [nameof(EndpointFilter.Options)] = (IReadOnlyList<string>)["rerank", "text_embedding"],
            [nameof(EndpointFilter.Selected)] = (IReadOnlyCollection<string>)["rerank"],
        });

        Assert.Contains("aria-label=\"Filter by Task type\"", html, StringComparison.Ordinal);
        Assert.Matches("<label[^>]* for=\"filter-task-type-rerank\"[^>]*>rerank</label>", html);
        Assert.Matches("id=\"filter-task-type-rerank\"[^>]*checked", html);
        Assert.DoesNotMatch("id=\"filter-task-type-text_embedding\"[^>]*checked", html);
        Assert.Matches("data-testid=\"filter-task-type-count\"[^>]*>1<", html);
    }

    private static Task<string> RenderTableAsync(EndpointListQuery query, IReadOnlyList<EndpointRow> rows, bool canManage) =>
        RenderAsync<EndpointTable>(new Dictionary<string, object?>
        {
            [nameof(EndpointTable.Page)] = query.Apply(rows),
            [nameof(EndpointTable.Query)] = query,
            [nameof(EndpointTable.CanManage)] = canManage,
        });

    private static async Task<string> RenderAsync<TComponent>(Dictionary<string, object?> parameters)
        where TComponent : IComponent
    {
        await using var services = new ServiceCollection().AddLogging().BuildServiceProvider();
        await using var renderer = new HtmlRenderer(services, NullLoggerFactory.Instance);
        return await renderer.Dispatcher.InvokeAsync(async () =>
            (await renderer.RenderComponentAsync<TComponent>(ParameterView.FromDictionary(parameters))).ToHtmlString());
    }

    private static List<string> Ids(string html) =>
        [.. System.Text.RegularExpressions.Regex.Matches(html, "data-testid=\"endpoint-row\" data-inference-id=\"([^\"]+)\"").Select(m => m.Groups[1].Value)];

    private static int Count(string html, string what) =>
        System.Text.RegularExpressions.Regex.Count(html, System.Text.RegularExpressions.Regex.Escape(what));

    // The markup of one row: from its <tr> to the next row's.
    private static string RowHtml(string html, string inferenceId)
    {
        var start = html.IndexOf($"data-inference-id=\"{inferenceId}\"", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no row {inferenceId}");
        var end = html.IndexOf("data-testid=\"endpoint-row\"", start + 1, StringComparison.Ordinal);
        return end < 0 ? html[start..] : html[start..end];
    }
}
