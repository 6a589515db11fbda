using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using WebConsole.Domain.ApiKeys;
using WebConsole.Domain.Tenancy;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Web.Security;

namespace WebConsole.Web.Components.Account;

/// <summary>The outcome of a password check: a principal for the cookie, or nothing (never which part was wrong).</summary>
public sealed record PortalSignInResult(ClaimsPrincipal? Principal, bool MustChangePassword)
{
    public static PortalSignInResult Failed { get; } = new(null, false);

    public bool Succeeded => Principal is not null;
}

/// <summary>
/// Local portal accounts: checks an e-mail and password with the shared framework's <see cref="PasswordHasher{TUser}"/>,
/// turns the user's memberships into the <see cref="CallerIdentity"/> the cookie carries, and changes passwords.
/// </summary>
public sealed class PortalAccounts(ISystemDbContextFactory systemDb, IPasswordHasher<User> hasher)
{
    /// <summary>Claim present while the user signed in with a one-time password that must be replaced.</summary>
    public const string MustChangePasswordClaim = "webconsole:must_change_password";

    /// <summary>Shortest new password accepted.</summary>
    public const int MinimumPasswordLength = 12;

    // Verified when the e-mail is unknown, so that a wrong address costs as long as a wrong password and the timing
    // does not tell which accounts exist.
    private static readonly Lazy<string> DecoyHash = new(() => new PasswordHasher<User>().HashPassword(null!, Guid.NewGuid().ToString("N")));

    public async Task<PortalSignInResult> SignInAsync(string? email, string? password, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(email) || string.IsNullOrEmpty(password))
        {
            return PortalSignInResult.Failed;
        }

        await using var db = systemDb.CreateDbContext();
        var user = await FindUserAsync(db, email, ct);
        if (user?.PasswordHash is not { } hash)
        {
            hasher.VerifyHashedPassword(null!, DecoyHash.Value, password);
            return PortalSignInResult.Failed;
        }

        var verification = hasher.VerifyHashedPassword(user, hash, password);
        if (verification == PasswordVerificationResult.Failed)
        {
            return PortalSignInResult.Failed;
        }

        if (verification == PasswordVerificationResult.SuccessRehashNeeded)
        {
            user.SetPasswordHash(hasher.HashPassword(user, password), user.MustChangePassword);
            await db.SaveChangesAsync(ct);
        }

        var caller = await ResolveCallerAsync(db, user, ct);
        if (caller is null)
        {
            // A user without an organization has nothing to see; saying so would confirm the password.
            return PortalSignInResult.Failed;
        }

        var identity = new ClaimsIdentity(caller.ToClaims(), AuthenticationSchemes.Cookie);
        identity.AddClaim(new Claim(ClaimTypes.Email, user.Email));
        if (user.MustChangePassword)
        {
            identity.AddClaim(new Claim(MustChangePasswordClaim, "true"));
        }

        return new PortalSignInResult(new ClaimsPrincipal(identity), user.MustChangePassword);
    }

    /// <summary>Replaces the password of <paramref name="userId"/> after checking the current one; false when it is wrong.</summary>
    public async Task<bool> ChangePasswordAsync(Guid userId, string currentPassword, string newPassword, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(newPassword);
        await using var db = systemDb.CreateDbContext();
        var user = await db.Users.SingleOrDefaultAsync(u => u.Id == userId, ct);
        if (user?.PasswordHash is not { } hash
            || hasher.VerifyHashedPassword(user, hash, currentPassword) == PasswordVerificationResult.Failed)
        {
            return false;
        }

        user.SetPasswordHash(hasher.HashPassword(user, newPassword));
        await db.SaveChangesAsync(ct);
        return true;
    }

    private static async Task<User?> FindUserAsync(WebConsoleDbContext db, string email, CancellationToken ct)
    {
        string normalized;
        try
        {
            normalized = User.NormalizeEmail(email);
        }
        catch (WebConsole.Domain.DomainValidationException)
        {
            return null;
        }

        return await db.Users.SingleOrDefaultAsync(u => u.Email == normalized, ct);
    }

    // The portal acts in the user's first organization (by membership date) and first team there. Team admins,
    // organization admins and operators manage inference; members monitor it.
    private static async Task<CallerIdentity?> ResolveCallerAsync(WebConsoleDbContext db, User user, CancellationToken ct)
    {
        var organizationMemberships = await db.OrganizationMemberships.Where(m => m.UserId == user.Id).ToListAsync(ct);
        var teamMemberships = await (
            from membership in db.TeamMemberships
            join team in db.Teams on membership.TeamId equals team.Id
            where membership.UserId == user.Id
            select new { membership.CreatedAt, membership.Role, team.Id, team.OrganizationId }).ToListAsync(ct);

        var organizationId = organizationMemberships.OrderBy(m => m.CreatedAt).Select(m => (Guid?)m.OrganizationId).FirstOrDefault()
            ?? teamMemberships.OrderBy(m => m.CreatedAt).Select(m => (Guid?)m.OrganizationId).FirstOrDefault();
        if (organizationId is not { } organization)
        {
            return null;
        }

        var teams = teamMemberships.Where(m => m.OrganizationId == organization).OrderBy(m => m.CreatedAt).ToList();
        var isOrganizationAdmin = organizationMemberships.Any(m => m.OrganizationId == organization && m.IsAdmin);
        var manages = isOrganizationAdmin || user.IsPlatformOperator || teams.Any(t => t.Role == TeamRole.TeamAdmin);
        var privileges = PrivilegeNames.Of(manages ? ApiKeyRole.InferenceAdmin : ApiKeyRole.InferenceUser);
        return new CallerIdentity(
            organization,
            teams.Select(t => (Guid?)t.Id).FirstOrDefault(),
            user.Id,
            ApiKeyId: null,
            privileges,
            isOrganizationAdmin,
            user.IsPlatformOperator,
            AllowedEndpoints: [])
        {
            DisplayName = user.DisplayName,
        };
    }
}
