using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using WebConsole.E2E.Infrastructure;

namespace WebConsole.E2E.Billing;

/// <summary>
/// Monthly budgets on a real server: concurrent requests on both surfaces cannot spend past a budget (the refused ones
/// are 402 on <c>/_inference</c>, OpenAI's 429 <c>insufficient_quota</c> on <c>/v1</c>), the soft threshold warns on
/// answers and leaves exactly one audit row, budgets change through <c>/api/budgets</c> without a restart, and the portal
/// shows them.
/// </summary>
public sealed class BudgetTests(BudgetServer fixture, BrowserFixture browser) : IClassFixture<BudgetServer>, IClassFixture<BrowserFixture>
{
    private static string Amount(decimal value) => value.ToString("0.#########", CultureInfo.InvariantCulture);

    [Fact]
    public async Task Concurrent_requests_cannot_spend_past_a_team_budget_and_raising_it_admits_again_without_a_restart()
    {
        var c = fixture.RequestCost;
        var (teamId, _, key) = await fixture.NewTeamAndKeyAsync("concurrent");
        using var admin = fixture.Client();
        var limit = (20 * c) + (c / 2);
        using (var set = await admin.PutAsJsonAsync("/api/budgets", new { scope = "team", scope_id = teamId.ToString(), monthly_limit = limit }))
        {
            Assert.True(set.StatusCode == HttpStatusCode.Created, await set.Content.ReadAsStringAsync());
        }

        // 50 at once, half on each surface: the budget holds 20 requests (and a half).
        using var client = fixture.Client(key);
        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            using var response = await BudgetServer.EmbedAsync(client, openAi: i % 2 == 1);
            return (OpenAi: i % 2 == 1, response.StatusCode, Body: await response.Content.ReadAsStringAsync(),
                RetryAfter: response.Headers.Contains("Retry-After"), Cost: response.StatusCode == HttpStatusCode.OK ? BudgetServer.Cost(response) : 0m);
        }));

        var admitted = answers.Where(a => a.StatusCode == HttpStatusCode.OK).ToList();
        var refused = answers.Where(a => a.StatusCode != HttpStatusCode.OK).ToList();
        Assert.All(admitted, a => Assert.Equal(c, a.Cost));
        foreach (var answer in refused)
        {
            var error = JsonNode.Parse(answer.Body)!["error"]!;
            Assert.False(answer.RetryAfter);
            if (answer.OpenAi)
            {
                Assert.True(answer.StatusCode == HttpStatusCode.TooManyRequests, answer.Body);
                Assert.Equal(("insufficient_quota", "insufficient_quota"), ((string)error["type"]!, (string)error["code"]!));
                Assert.StartsWith($"Monthly budget of {Amount(limit)} USD for team [concurrent] ", (string)error["message"]!, StringComparison.Ordinal);
            }
            else
            {
                Assert.True(answer.StatusCode == HttpStatusCode.PaymentRequired, answer.Body);
                Assert.Equal("status_exception", (string)error["type"]!);
                var reason = (string)error["reason"]!;
                Assert.StartsWith($"Monthly budget of {Amount(limit)} USD for team [concurrent] ", reason, StringComparison.Ordinal);
                Assert.Contains($"this request needs about {Amount(c)} USD); requests are refused until ", reason, StringComparison.Ordinal);
                Assert.EndsWith("T00:00:00Z or until the budget is raised", reason, StringComparison.Ordinal);
            }
        }

        // The estimate is the real cost here, so exactly what fits was admitted; the ledger agrees and stays within the budget.
        Assert.Equal(20, admitted.Count);
        var spent = await fixture.LedgerCostAsync(teamId);
        Assert.Equal(admitted.Count * c, spent);
        Assert.True(spent <= limit, $"spent {spent} > limit {limit}");

        var listed = await BudgetAsync(admin, "team", teamId.ToString());
        Assert.Equal((spent, 0m, limit - spent), ((decimal)listed["spent"]!, (decimal)listed["reserved"]!, (decimal)listed["remaining"]!));
        Assert.Equal(DateTime.UtcNow.ToString("yyyy-MM", CultureInfo.InvariantCulture), (string)listed["month"]!);

        // Raised, the budget admits again at once, on both surfaces.
        using (var raised = await admin.PutAsJsonAsync("/api/budgets", new { scope = "team", scope_id = teamId.ToString(), monthly_limit = limit + (10 * c) }))
        {
            Assert.True(raised.StatusCode == HttpStatusCode.OK, await raised.Content.ReadAsStringAsync());
        }

        using var again = await BudgetServer.EmbedAsync(client, openAi: false);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        using var againOpenAi = await BudgetServer.EmbedAsync(client, openAi: true);
        Assert.Equal(HttpStatusCode.OK, againOpenAi.StatusCode);
    }

    [Fact]
    public async Task Crossing_the_soft_threshold_warns_on_every_later_answer_and_writes_exactly_one_audit_row()
    {
        var c = fixture.RequestCost;
        var (_, keyId, key) = await fixture.NewTeamAndKeyAsync("soft");
        using var admin = fixture.Client();
        string budgetId;
        using (var set = await admin.PutAsJsonAsync("/api/budgets", new { scope = "api_key", scope_id = keyId, monthly_limit = 100 * c, soft_limit = 2.5m * c, currency = "usd" }))
        {
            var body = await set.Content.ReadAsStringAsync();
            Assert.True(set.StatusCode == HttpStatusCode.Created, body);
            budgetId = (string)JsonNode.Parse(body)!["id"]!;
        }

        using var client = fixture.Client(key);
        for (var i = 0; i < 3; i++)
        {
            using var below = await BudgetServer.EmbedAsync(client, openAi: i == 1);
            Assert.Equal(HttpStatusCode.OK, below.StatusCode);
            Assert.False(below.Headers.Contains("Warning"), $"request {i} warned before the threshold");
        }

        // The third request's cost crossed 2.5 requests' worth: every answer from now on carries the warning.
        for (var i = 3; i < 6; i++)
        {
            using var above = await BudgetServer.EmbedAsync(client, openAi: i % 2 == 0);
            Assert.Equal(HttpStatusCode.OK, above.StatusCode);
            Assert.Equal(
                $"299 WebConsole \"API key [soft-key] has spent {Amount(i * c)} of its monthly budget {Amount(100 * c)} USD\"",
                Assert.Single(above.Headers.GetValues("Warning")));
        }

        var trail = await SoftLimitAuditAsync(admin, budgetId, expected: 1);
        var entry = Assert.Single(trail);
        Assert.StartsWith($"API key [soft-key] has spent {Amount(3 * c)} USD of its monthly budget", (string)entry["details"]!, StringComparison.Ordinal);

        // Still one after more spending (reported once a month).
        for (var i = 0; i < 3; i++)
        {
            using var more = await BudgetServer.EmbedAsync(client, openAi: false);
            Assert.Equal(HttpStatusCode.OK, more.StatusCode);
        }

        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Single(await SoftLimitAuditAsync(admin, budgetId, expected: 1));
        var listed = await BudgetAsync(admin, "api_key", keyId);
        Assert.Equal((true, false), ((bool)listed["soft_limit_reached"]!, (bool)listed["exhausted"]!));
    }

    [Fact]
    public async Task The_budgets_api_is_for_organization_admins_validates_and_deleting_a_budget_lifts_it()
    {
        var c = fixture.RequestCost;
        var (teamId, keyId, key) = await fixture.NewTeamAndKeyAsync("managed");
        using var admin = fixture.Client();
        using (var user = fixture.Client(key))
        using (var forbidden = await user.GetAsync(new Uri("/api/budgets", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        }

        await ExpectProblemAsync(admin, new { scope = "organization", scope_id = teamId.ToString(), monthly_limit = 1m }, HttpStatusCode.BadRequest, "scope");
        await ExpectProblemAsync(admin, new { scope = "team", scope_id = Guid.NewGuid().ToString(), monthly_limit = 1m }, HttpStatusCode.NotFound, null);
        await ExpectProblemAsync(admin, new { scope = "api_key", scope_id = "no-such-key", monthly_limit = 1m }, HttpStatusCode.NotFound, null);
        await ExpectProblemAsync(admin, new { scope = "team", scope_id = teamId.ToString(), monthly_limit = 1m, currency = "EUR" }, HttpStatusCode.BadRequest, "currency");
        await ExpectProblemAsync(admin, new { scope = "team", scope_id = teamId.ToString(), monthly_limit = 1m, soft_limit = 2m }, HttpStatusCode.BadRequest, "soft_limit");
        await ExpectProblemAsync(admin, new { scope = "team", scope_id = teamId.ToString() }, HttpStatusCode.BadRequest, "monthly_limit");
        using (var missing = await admin.DeleteAsync(new Uri($"/api/budgets/{Guid.NewGuid()}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        // A key budget smaller than one request refuses the key's requests (not its team's other callers').
        string budgetId;
        using (var set = await admin.PutAsJsonAsync("/api/budgets", new { scope = "api_key", scope_id = keyId, monthly_limit = c / 2 }))
        {
            var body = await set.Content.ReadAsStringAsync();
            Assert.True(set.StatusCode == HttpStatusCode.Created, body);
            budgetId = (string)JsonNode.Parse(body)!["id"]!;
        }

        using var client = fixture.Client(key);
        using (var refused = await BudgetServer.EmbedAsync(client, openAi: false))
        {
            var body = await refused.Content.ReadAsStringAsync();
            Assert.True(refused.StatusCode == HttpStatusCode.PaymentRequired, body);
            Assert.Contains("for API key [managed-key] cannot cover this request (spent 0 USD", body, StringComparison.Ordinal);
        }

        using (var deleted = await admin.DeleteAsync(new Uri($"/api/budgets/{budgetId}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        using (var admitted = await BudgetServer.EmbedAsync(client, openAi: false))
        {
            Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
        }

        var trail = JsonNode.Parse(await admin.GetStringAsync(new Uri($"/api/audit?resource_id={budgetId}&page_size=100", UriKind.Relative)))!;
        Assert.Equal(
            ["budget.created", "budget.deleted"],
            trail["entries"]!.AsArray().Select(e => (string)e!["action"]!).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(c, await fixture.LedgerCostAsync(teamId));
    }

    [Fact]
    public async Task The_portal_shows_exhausted_and_warned_budgets_and_raising_a_limit_there_lifts_the_refusal()
    {
        var c = fixture.RequestCost;
        var (teamId, keyId, key) = await fixture.NewTeamAndKeyAsync("portal");
        using var admin = fixture.Client();
        foreach (var body in new object[]
        {
            new { scope = "team", scope_id = teamId.ToString(), monthly_limit = c },
            new { scope = "api_key", scope_id = keyId, monthly_limit = 10 * c, soft_limit = c / 2 },
        })
        {
            using var set = await admin.PutAsJsonAsync("/api/budgets", body);
            Assert.True(set.StatusCode == HttpStatusCode.Created, await set.Content.ReadAsStringAsync());
        }

        using var client = fixture.Client(key);
        using (var first = await BudgetServer.EmbedAsync(client, openAi: false))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        using (var refused = await BudgetServer.EmbedAsync(client, openAi: true))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        }

        var (page, errors) = await browser.NewSignedInPageAsync(fixture.Server.BaseAddress, ServerFixture.OperatorEmail, ServerFixture.OperatorPassword);
        await page.GetByTestId("nav").GetByText("Budgets", new LocatorGetByTextOptions { Exact = true }).ClickAsync();
        await page.WaitForURLAsync("**/budgets");
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Budgets");

        var exhausted = page.GetByTestId("budget-exhausted-alert").Filter(new LocatorFilterOptions { HasText = "team portal" });
        await Assertions.Expect(exhausted).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("budget-soft-alert").Filter(new LocatorFilterOptions { HasText = "key portal-key" })).ToBeVisibleAsync();
        var teamRow = page.Locator($"[data-testid=budget-row][data-scope=team][data-name=portal]");
        await Assertions.Expect(teamRow.GetByTestId("budget-state")).ToHaveAttributeAsync("data-state", "exhausted");
        await Assertions.Expect(teamRow.GetByTestId("budget-spent")).ToContainTextAsync($"{Amount(c)} USD of {Amount(c)} USD (100%)");
        await Assertions.Expect(page.GetByTestId("budgets-chart")).ToBeVisibleAsync();

        // Raise the team's limit in the dialog: the alert goes, and the key's next request is admitted.
        await teamRow.GetByTestId("budget-edit").ClickAsync();
        var limit = page.GetByTestId("budget-limit").Locator("input");
        await limit.FillAsync(Amount(5 * c));
        await page.GetByTestId("budget-save").ClickAsync();
        await Assertions.Expect(exhausted).ToHaveCountAsync(0);
        await Assertions.Expect(teamRow.GetByTestId("budget-state")).ToHaveAttributeAsync("data-state", "ok");

        using (var admitted = await BudgetServer.EmbedAsync(client, openAi: true))
        {
            Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
        }

        Assert.Empty(errors);
    }

    private static async Task<JsonNode> BudgetAsync(HttpClient admin, string scope, string scopeId)
    {
        var list = JsonNode.Parse(await admin.GetStringAsync(new Uri("/api/budgets", UriKind.Relative)))!.AsArray();
        return Assert.Single(list, b => (string)b!["scope"]! == scope && (string)b["scope_id"]! == scopeId)!;
    }

    private static async Task<List<JsonNode>> SoftLimitAuditAsync(HttpClient admin, string budgetId, int expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var page = JsonNode.Parse(await admin.GetStringAsync(new Uri(
                $"/api/audit?action=budget.soft_limit_reached&resource_id={budgetId}&page_size=100", UriKind.Relative)))!;
            var entries = page["entries"]!.AsArray().Select(e => e!).ToList();
            if (entries.Count >= expected || DateTime.UtcNow > deadline)
            {
                return entries;
            }

            await Task.Delay(100);
        }
    }

    private static async Task ExpectProblemAsync(HttpClient admin, object body, HttpStatusCode status, string? field)
    {
        using var response = await admin.PutAsJsonAsync("/api/budgets", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        if (field is not null)
        {
            Assert.True(JsonNode.Parse(text)!["errors"]![field] is not null, text);
        }
    }
}
