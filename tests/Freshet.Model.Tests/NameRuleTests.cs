using Freshet.Model.Schema;

namespace Freshet.Model.Tests;

/// <summary>The one rule for model and job names.</summary>
public class NameRuleTests
{
    [Theory]
    [InlineData("shop")]
    [InlineData("shop-main")]
    [InlineData("m_2")]
    [InlineData("0ad")]
    [InlineData("a234567890123456789012345678901234567890123456789012345678901234")]
    public void Names_of_lower_case_letters_digits_dashes_and_underscores_are_taken(string name) => Assert.Null(NameRule.Problem(name, "model"));

    [Theory]
    [InlineData("", "model: give a name")]
    [InlineData("..", "model '..': the character '.' is not allowed")]
    [InlineData("../x", "model '../x': the character '.' is not allowed")]
    [InlineData("a/b", "model 'a/b': the character '/' is not allowed")]
    [InlineData("Shop", "model 'Shop': the character 'S' is not allowed")]
    [InlineData("-x", "model '-x': starts with '-'")]
    [InlineData("a\u0000b", "the character '\\u0000' is not allowed")]
    [InlineData("a2345678901234567890123456789012345678901234567890123456789012345", "65 characters")]
    public void Anything_else_is_refused_with_what_is_wrong(string name, string problem)
    {
        Assert.Contains(problem, NameRule.Problem(name, "model"), StringComparison.Ordinal);
        Assert.Contains(NameRule.Description, Assert.Throws<ArgumentException>(() => NameRule.Check(name, "model")).Message, StringComparison.Ordinal);
    }
}
