using Microsoft.Playwright;

namespace WebConsole.E2E.Infrastructure;

/// <summary>
/// Headless Debian Chromium driven by Playwright. Playwright's own browser download cannot work here, so the system
/// browser is launched (scripts/test.sh installs it); the flags keep it from reaching for the network.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("The browser has not started.");

    public static string ChromiumPath =>
        Environment.GetEnvironmentVariable("WEBCONSOLE_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException(
                $"Chromium is not installed at {ChromiumPath}: run scripts/test.sh (it installs Debian's chromium) or set WEBCONSOLE_CHROMIUM.");
        }

        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
            ],
        });
    }

    /// <summary>A new page whose console errors and failed requests are collected for assertions.</summary>
    public async Task<(IPage Page, List<string> Errors)> NewPageAsync(Uri baseAddress)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseAddress.ToString() });
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (errors)
                {
                    errors.Add(message.Text);
                }
            }
        };
        page.Response += (_, response) =>
        {
            if (response.Status >= 400)
            {
                lock (errors)
                {
                    errors.Add($"HTTP {response.Status} for {response.Url}");
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (errors)
            {
                errors.Add(error);
            }
        };
        return (page, errors);
    }

    /// <summary>
    /// A new page signed in through the real sign-in form (so the cookie is the one a person gets), left on the portal's
    /// home page once its circuit is interactive.
    /// </summary>
    public async Task<(IPage Page, List<string> Errors)> NewSignedInPageAsync(Uri baseAddress, string email, string password)
    {
        var (page, errors) = await NewPageAsync(baseAddress);
        await SignInAsync(page, email, password);
        // Commit, not load: the circuit's readiness below is the signal that matters, and a busy machine can hold "load".
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/", new() { WaitUntil = WaitUntilState.Commit, Timeout = 60_000 });
        await Assertions.Expect(page.GetByTestId("layout")).ToHaveAttributeAsync("data-interactive", "true", new() { Timeout = 30_000 });
        return (page, errors);
    }

    /// <summary>Opens the sign-in page (unless already there) and submits the form.</summary>
    public static async Task SignInAsync(IPage page, string email, string password)
    {
        if (!page.Url.Contains("/account/signin", StringComparison.Ordinal))
        {
            await page.GotoAsync("/account/signin");
        }

        await page.GetByTestId("signin-email").FillAsync(email);
        await page.GetByTestId("signin-password").FillAsync(password);
        await page.GetByTestId("signin-submit").ClickAsync();
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}
