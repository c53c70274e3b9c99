namespace PleoKeys.Web;

/// <summary>
/// Names the app's one set of texts: <c>Resources/SharedResource.resx</c> (English, the neutral language) and a
/// <c>SharedResource.{culture}.resx</c> per other language of <see cref="AppCultures.Supported"/>. The English text is
/// the key, as ASP.NET Core's localization guide does, so a page reads as English in its source.
/// </summary>
public sealed class SharedResource
{
}
