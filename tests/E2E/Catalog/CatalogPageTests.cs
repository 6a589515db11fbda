using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using WebConsole.E2E.Infrastructure;

namespace WebConsole.E2E.Catalog;

/// <summary>The portal's Catalog page in Chromium: EOL states and countdowns, and an operator assigning a backend through the dialog.</summary>
public sealed class CatalogPageTests(CatalogServer fixture, BrowserFixture browser) : IClassFixture<CatalogServer>, IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task An_operator_sees_eol_warnings_and_assigns_an_embedded_backend_that_tenants_can_use_at_once()
    {
        const string CatalogId = "jina-embeddings-v5-text-nano";
        var (page, errors) = await browser.NewSignedInPageAsync(fixture.Server.BaseAddress, ServerFixture.OperatorEmail, ServerFixture.OperatorPassword);
        await page.GetByTestId("nav").GetByText("Catalog", new LocatorGetByTextOptions { Exact = true }).ClickAsync();
        await page.WaitForURLAsync("**/catalog");
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Catalog");
        await Assertions.Expect(page.GetByTestId("catalog-grid")).ToHaveAttributeAsync("data-model-count", "27");

        // EOL states follow the server's clock (2026-11-22 when written): past, within 90 days, far off, none.
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var opus = new DateOnly(2026, 11, 24).DayNumber - today.DayNumber;
        await Assertions.Expect(Row(page, "anthropic-claude-3.7-sonnet")).ToHaveAttributeAsync("data-eol-state", "ended");
        await Assertions.Expect(Row(page, "anthropic-claude-4.5-opus")).ToHaveAttributeAsync("data-eol-state", opus <= 0 ? "ended" : opus <= 90 ? "warning" : "ok");
        if (opus is > 1 and <= 90)
        {
            await Assertions.Expect(Row(page, "anthropic-claude-4.5-opus").GetByTestId("catalog-eol-countdown")).ToHaveTextAsync($"{opus} days left");
        }

        await Assertions.Expect(Row(page, "openai-gpt-4.1").GetByTestId("catalog-eol")).ToHaveAttributeAsync("data-eol-state", "ok");
        await Assertions.Expect(Row(page, CatalogId).GetByTestId("catalog-eol")).ToHaveAttributeAsync("data-eol-state", "none");
        await Assertions.Expect(Row(page, CatalogId).GetByTestId("catalog-backend")).ToHaveAttributeAsync("data-backend-kind", "none");
        await Assertions.Expect(Row(page, ".demo-chat").GetByTestId("catalog-backend")).ToHaveAttributeAsync("data-backend-kind", "embedded");

        // Assign the generated BERT as the embedded backend.
        await Row(page, CatalogId).GetByTestId("catalog-assign-backend").ClickAsync();
        var form = page.GetByTestId("catalog-backend-form");
        await Assertions.Expect(form.GetByTestId("catalog-backend-target")).ToContainTextAsync(CatalogId);
        await form.GetByTestId("catalog-backend-embedded-model").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = CatalogServer.Bert, Exact = true }).ClickAsync();
        await form.GetByTestId("catalog-backend-save").ClickAsync();
        await Assertions.Expect(form).ToHaveCountAsync(0);
        var backend = Row(page, CatalogId).GetByTestId("catalog-backend");
        await Assertions.Expect(backend).ToHaveAttributeAsync("data-backend-kind", "embedded");
        await Assertions.Expect(backend).ToHaveTextAsync($"embedded {CatalogServer.Bert}");

        // The upstream form is built from the chosen service's _services schema, sensitive fields masked.
        await Row(page, CatalogId).GetByTestId("catalog-assign-backend").ClickAsync();
        await form.GetByText("Upstream provider", new LocatorGetByTextOptions { Exact = true }).ClickAsync();
        await SelectServiceAsync(page, form, "elasticsearch");
        await Assertions.Expect(form.GetByTestId("catalog-backend-field-model_id")).ToBeVisibleAsync();
        await Assertions.Expect(form.GetByTestId("catalog-backend-field-num_threads")).ToBeVisibleAsync();
        using (var op = fixture.Operator())
        {
            // Whichever registered service has a secret for this task type (the connectors' api_key): its input is a password box.
            var services = JsonNode.Parse(await op.GetStringAsync(new Uri("/_inference/_services/text_embedding", UriKind.Relative)))!.AsArray();
            var withSecret = services.Select(s => (Service: (string)s!["service"]!, Secret: s!["configurations"]!.AsObject()
                    .FirstOrDefault(f => (bool)f.Value!["sensitive"]!).Key))
                .FirstOrDefault(s => s.Secret is not null);
            if (withSecret.Secret is { } secret)
            {
                await SelectServiceAsync(page, form, withSecret.Service);
                await Assertions.Expect(form.GetByTestId($"catalog-backend-input-{secret}").Locator("input").Or(form.Locator($"input[data-testid=catalog-backend-input-{secret}]")))
                    .ToHaveAttributeAsync("type", "password");
            }
        }

        await form.GetByTestId("catalog-backend-cancel").ClickAsync();
        await Assertions.Expect(form).ToHaveCountAsync(0);

        using var tenant = fixture.Tenant();
        using (var created = await CatalogServer.CreateManagedEndpointAsync(tenant, "text_embedding", "portal-assigned", CatalogId))
        {
            Assert.True(created.StatusCode == HttpStatusCode.OK, fixture.Explain(await created.Content.ReadAsStringAsync()));
        }

        using var embedded = await tenant.PostAsync("/_inference/text_embedding/portal-assigned", CatalogServer.Json(new { input = "hello" }));
        Assert.Equal(HttpStatusCode.OK, embedded.StatusCode);
        Assert.Equal(fixture.Dimensions, JsonNode.Parse(await embedded.Content.ReadAsStringAsync())!["text_embedding"]![0]!["embedding"]!.AsArray().Count);
        Assert.Empty(errors);
    }

    private static async Task SelectServiceAsync(IPage page, ILocator form, string service)
    {
        await form.GetByTestId("catalog-backend-service").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = service, Exact = true }).ClickAsync();
        await Assertions.Expect(form.GetByTestId("catalog-backend-service")).ToContainTextAsync(service);
    }

    private static ILocator Row(IPage page, string catalogId) => page.Locator($"[data-testid=catalog-row][data-catalog-id='{catalogId}']");
}
