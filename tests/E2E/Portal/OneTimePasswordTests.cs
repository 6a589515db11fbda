using System.Text.RegularExpressions;
using Microsoft.Playwright;
using WebConsole.E2E.Infrastructure;

namespace WebConsole.E2E.Portal;

/// <summary>A first start without a configured operator password: the one-time password must be replaced at first sign-in.</summary>
[Collection(ServerCollection.Name)]
public sealed partial class OneTimePasswordTests(BrowserFixture browser)
{
    [Fact]
    public async Task An_operator_with_a_one_time_password_must_choose_a_new_one_before_using_the_portal()
    {
        const string email = "first@e2e.test";
        const string newPassword = "my-own-password-42";
        await using var server = await WebConsoleServer.StartAsync(new Dictionary<string, string?> { ["WebConsole:Bootstrap:OperatorEmail"] = email });
        var printed = OneTimePassword().Match(server.Log);
        Assert.True(printed.Success, server.Log);

        var (page, errors) = await browser.NewPageAsync(server.BaseAddress);
        await BrowserFixture.SignInAsync(page, email, printed.Groups[1].Value);
        await page.WaitForURLAsync("**/account/password?**");
        await Assertions.Expect(page.GetByTestId("password-required")).ToBeVisibleAsync();

        // The portal keeps sending the user back until the password is changed.
        await page.GotoAsync("/teams");
        await page.WaitForURLAsync("**/account/password?**");

        await page.GetByTestId("password-current").FillAsync(printed.Groups[1].Value);
        await page.GetByTestId("password-new").FillAsync(newPassword);
        await page.GetByTestId("password-confirm").FillAsync(newPassword);
        await page.GetByTestId("password-submit").ClickAsync();
        await page.WaitForURLAsync("**/teams");
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Teams & keys");

        // The one-time password is spent; the new one signs in straight to the portal.
        var (second, secondErrors) = await browser.NewPageAsync(server.BaseAddress);
        await BrowserFixture.SignInAsync(second, email, printed.Groups[1].Value);
        await Assertions.Expect(second.GetByTestId("signin-error")).ToBeVisibleAsync();
        await BrowserFixture.SignInAsync(second, email, newPassword);
        await second.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/");
        Assert.Empty(errors);
        Assert.Empty(secondErrors);
    }

    [GeneratedRegex(@"one-time password (\S+) - sign in")]
    private static partial Regex OneTimePassword();
}
