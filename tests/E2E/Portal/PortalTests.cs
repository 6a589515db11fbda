using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using WebConsole.E2E.Infrastructure;

namespace WebConsole.E2E.Portal;

[Collection(ServerCollection.Name)]
public sealed partial class PortalTests(ServerFixture server, BrowserFixture browser)
{
    private static readonly LocatorAssertionsToHaveAttributeOptions Wait = new() { Timeout = 30_000 };

    [Fact]
    public async Task Healthz_reports_the_database_and_the_inference_runtime_healthy()
    {
        using var client = server.Server.CreateClient();
        using var response = await client.GetAsync(new Uri("healthz", UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        Assert.Equal("healthy", json.RootElement.GetProperty("status").GetString());
        var checks = json.RootElement.GetProperty("checks").EnumerateArray()
            .ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("status").GetString());
        Assert.Equal("healthy", checks["database"]);
        Assert.Equal("healthy", checks["inference_runtime"]);
        Assert.Equal("healthy", checks["text_segmentation"]);
    }

    [Fact]
    public async Task Portal_loads_and_an_interactive_Radzen_component_reacts_to_a_click()
    {
        var (page, errors) = await SignedInPageAsync();

        // RadzenSidebarToggle: a click goes over the SignalR circuit and the sidebar collapses, then expands again.
        var sidebar = page.GetByTestId("sidebar");
        await Assertions.Expect(sidebar).ToHaveAttributeAsync("data-expanded", "true");
        await page.GetByTestId("sidebar-toggle").ClickAsync();
        await Assertions.Expect(sidebar).ToHaveAttributeAsync("data-expanded", "false", Wait);
        await page.GetByTestId("sidebar-toggle").ClickAsync();
        await Assertions.Expect(sidebar).ToHaveAttributeAsync("data-expanded", "true", Wait);

        // RadzenButton: re-running the health checks renders a new report.
        var checks = page.GetByTestId("health-checks");
        await Assertions.Expect(checks).ToHaveAttributeAsync("data-checked-count", "1", Wait);
        await page.GetByTestId("health-refresh").ClickAsync();
        await Assertions.Expect(checks).ToHaveAttributeAsync("data-checked-count", "2", Wait);
        await Assertions.Expect(page.GetByTestId("health-database")).ToHaveAttributeAsync("data-status", "healthy");

        Assert.Empty(errors);
    }

    [Theory]
    [InlineData("Endpoints", "endpoints", "endpoints-intro")]
    [InlineData("Playground", "playground", "playground")]
    [InlineData("Models", "models", "models-grid")]
    [InlineData("Usage", "usage", "usage-totals")]
    [InlineData("Teams & keys", "teams", "teams-grid")]
    [InlineData("Settings", "settings", "settings-prices")]
    public async Task Navigation_reaches_every_section_of_the_portal(string title, string path, string content)
    {
        var (page, errors) = await SignedInPageAsync();

        await page.GetByTestId("nav").GetByText(title, new LocatorGetByTextOptions { Exact = true }).ClickAsync();

        await page.WaitForURLAsync($"**/{path}");
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync(title, new() { Timeout = 30_000 });
        await Assertions.Expect(page.GetByTestId(content)).ToBeVisibleAsync();
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Blazor_script_is_served_as_javascript()
    {
        using var client = server.Server.CreateClient();
        using var response = await client.GetAsync(new Uri("_framework/blazor.web.js", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.True((await response.Content.ReadAsByteArrayAsync()).Length > 100_000);
    }

    [Fact]
    public async Task Signing_in_in_Chromium_shows_the_user_menu_and_signing_out_ends_the_session()
    {
        var (page, errors) = await SignedInPageAsync();

        await Assertions.Expect(page.GetByTestId("user-name")).ToHaveTextAsync("Operator");
        await Assertions.Expect(page.GetByTestId("user-organization")).ToHaveTextAsync("Default organization");

        await page.GetByTestId("sign-out").ClickAsync();
        await page.WaitForURLAsync("**/account/signin**");
        await page.GotoAsync("/teams");
        await page.WaitForURLAsync("**/account/signin**");
        await Assertions.Expect(page.GetByTestId("signin-form")).ToBeVisibleAsync();
        Assert.Empty(errors);
    }

    [Fact]
    public async Task An_unauthenticated_visit_redirects_to_sign_in_and_signing_in_returns_to_the_page()
    {
        using (var client = NoRedirectClient())
        {
            using var response = await client.GetAsync(new Uri("teams", UriKind.Relative));
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            var location = new Uri(server.Server.BaseAddress, response.Headers.Location!);
            Assert.Equal("/account/signin", location.AbsolutePath);
            Assert.Equal("?ReturnUrl=%2Fteams", location.Query, ignoreCase: true);
        }

        var (page, errors) = await browser.NewPageAsync(server.Server.BaseAddress);
        await page.GotoAsync("/teams");
        await page.WaitForURLAsync("**/account/signin?**");
        await BrowserFixture.SignInAsync(page, ServerFixture.OperatorEmail, ServerFixture.OperatorPassword);

        await page.WaitForURLAsync("**/teams");
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Teams & keys");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_wrong_password_or_an_unknown_address_shows_the_same_message_and_signs_nobody_in()
    {
        var (page, errors) = await browser.NewPageAsync(server.Server.BaseAddress);

        await BrowserFixture.SignInAsync(page, ServerFixture.OperatorEmail, "not-the-password");
        var error = page.GetByTestId("signin-error");
        await Assertions.Expect(error).ToContainTextAsync("e-mail address or password is not correct");
        var wrongPassword = await error.InnerTextAsync();

        await BrowserFixture.SignInAsync(page, "nobody@e2e.test", ServerFixture.OperatorPassword);
        await Assertions.Expect(error).ToBeVisibleAsync();
        Assert.Equal(wrongPassword, await error.InnerTextAsync());

        // Still signed out: the portal sends the browser back to the form.
        await page.GotoAsync("/");
        await page.WaitForURLAsync("**/account/signin**");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_sign_in_form_post_without_the_antiforgery_token_is_refused()
    {
        using var client = NoRedirectClient();
        using var response = await client.PostAsync(new Uri("account/signin", UriKind.Relative), SignInForm(token: null));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var teams = await client.GetAsync(new Uri("teams", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, teams.StatusCode);
    }

    [Fact]
    public async Task A_sign_in_form_post_with_the_token_signs_in_and_never_returns_to_another_site()
    {
        using var client = NoRedirectClient();
        var form = await client.GetStringAsync(new Uri("account/signin", UriKind.Relative));
        var token = TokenField().Match(form);
        Assert.True(token.Success, form);

        using var response = await client.PostAsync(
            new Uri("account/signin?returnUrl=" + Uri.EscapeDataString("//evil.example/phish"), UriKind.Relative),
            SignInForm(token.Groups[1].Value));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(server.Server.BaseAddress, new Uri(server.Server.BaseAddress, response.Headers.Location!));
        using var teams = await client.GetAsync(new Uri("teams", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, teams.StatusCode);
    }

    [Fact]
    public async Task Sign_out_needs_the_antiforgery_token_and_then_ends_the_session()
    {
        using var client = NoRedirectClient();
        var form = await client.GetStringAsync(new Uri("account/signin", UriKind.Relative));
        using (var signIn = await client.PostAsync(new Uri("account/signin", UriKind.Relative), SignInForm(TokenField().Match(form).Groups[1].Value)))
        {
            Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        }

        using (var forged = await client.PostAsync(new Uri("account/signout", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string>())))
        {
            Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        }

        // The page's own sign-out form carries the token.
        var teams = await client.GetStringAsync(new Uri("teams", UriKind.Relative));
        var token = TokenField().Match(teams);
        Assert.True(token.Success, teams);
        using (var signOut = await client.PostAsync(
            new Uri("account/signout", UriKind.Relative),
            new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token.Groups[1].Value, ["returnUrl"] = "/teams" })))
        {
            Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
            Assert.Equal("/account/signin?returnUrl=%2Fteams", signOut.Headers.Location?.OriginalString);
        }

        using var after = await client.GetAsync(new Uri("teams", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
    }

    [Fact]
    public async Task A_key_created_on_the_keys_page_authenticates_until_it_is_invalidated()
    {
        var (page, errors) = await SignedInPageAsync();
        await page.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        await page.GotoAsync("/teams");
        await Assertions.Expect(page.GetByTestId("layout")).ToHaveAttributeAsync("data-interactive", "true", Wait);
        await Assertions.Expect(page.GetByTestId("team-Default")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("members-grid")).ToContainTextAsync(ServerFixture.OperatorEmail);

        var name = $"e2e-{Guid.NewGuid():N}"[..16];
        await page.GetByTestId("create-key").ClickAsync();
        await page.GetByTestId("key-name").FillAsync(name);
        await page.GetByTestId("key-days").Locator("input").FillAsync("30");
        await page.GetByTestId("create-key-submit").ClickAsync();

        // The secret is shown once, with a warning, and the copy button puts the encoded key on the clipboard.
        await Assertions.Expect(page.GetByTestId("created-key-warning")).ToContainTextAsync("never show it again");
        var encoded = await page.GetByTestId("created-key-encoded").InputValueAsync();
        var id = await page.GetByTestId("created-key-id").InnerTextAsync();
        Assert.Equal(id, System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(encoded)).Split(':')[0]);
        await page.GetByTestId("created-key-copy").ClickAsync();

        // The click goes to the server, which writes the clipboard through JS interop: wait for it rather than read at once.
        var copied = string.Empty;
        for (var attempt = 0; attempt < 50 && copied != encoded; attempt++)
        {
            copied = await page.EvaluateAsync<string>("navigator.clipboard.readText()");
            if (copied != encoded)
            {
                await Task.Delay(100);
            }
        }

        Assert.Equal(encoded, copied);
        await page.GetByTestId("created-key-done").ClickAsync();
        await Assertions.Expect(page.GetByTestId("created-key")).ToHaveCountAsync(0);

        var row = page.Locator($"[data-testid=key-row][data-key-id='{id}']");
        await Assertions.Expect(row).ToHaveAttributeAsync("data-state", "active", Wait);
        await Assertions.Expect(row).ToContainTextAsync(name);
        await Assertions.Expect(row).ToContainTextAsync("inference_admin");
        await Assertions.Expect(page.Locator("body")).Not.ToContainTextAsync(encoded);
        Assert.Equal(HttpStatusCode.OK, await AuthenticateAsync(encoded));

        await row.GetByTestId("invalidate-key").ClickAsync();
        await page.Locator(".rz-dialog").GetByRole(AriaRole.Button, new() { Name = "Invalidate key" }).ClickAsync();
        await Assertions.Expect(row).ToHaveAttributeAsync("data-state", "invalidated", Wait);
        Assert.Equal(HttpStatusCode.Unauthorized, await AuthenticateAsync(encoded));
        Assert.Empty(errors);
    }

    private Task<(IPage Page, List<string> Errors)> SignedInPageAsync() =>
        browser.NewSignedInPageAsync(server.Server.BaseAddress, ServerFixture.OperatorEmail, ServerFixture.OperatorPassword);

    private async Task<HttpStatusCode> AuthenticateAsync(string encoded)
    {
        using var client = server.Server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("_security/_authenticate", UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("ApiKey", encoded);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    // Keeps cookies (antiforgery, session) like a browser, but shows redirects instead of following them.
    private HttpClient NoRedirectClient()
    {
        var handler = new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer(), UseCookies = true };
        return new HttpClient(handler) { BaseAddress = server.Server.BaseAddress, Timeout = TimeSpan.FromMinutes(1) };
    }

    // The fields Blazor's static form binds: the form's name, the model's properties, and (normally) the token.
    private static FormUrlEncodedContent SignInForm(string? token)
    {
        var fields = new Dictionary<string, string>
        {
            ["_handler"] = "signin",
            ["Input.Email"] = ServerFixture.OperatorEmail,
            ["Input.Password"] = ServerFixture.OperatorPassword,
        };
        if (token is not null)
        {
            fields["__RequestVerificationToken"] = token;
        }

        return new FormUrlEncodedContent(fields);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();
}
