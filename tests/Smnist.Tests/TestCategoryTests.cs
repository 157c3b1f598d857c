using System.Reflection;

namespace Smnist.Tests;

/// <summary>
/// Every test has a Category trait (unit, command, browser or slow), so the filters docs/testing.md documents
/// select every test there is: an untagged one would silently fall out of `--filter Category=unit`.
/// </summary>
[Trait("Category", "unit")]
public class TestCategoryTests
{
    private static readonly string[] Categories = ["unit", "command", "browser", "slow"];

    [Fact]
    public void EveryTestHasOneOfTheDocumentedCategories()
    {
        var untagged = new List<string>();
        foreach (Type type in typeof(TestCategoryTests).Assembly.GetTypes())
        {
            foreach (MethodInfo method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            {
                if (method.GetCustomAttribute<FactAttribute>() is null)
                    continue;
                string[] categories = CategoriesOf(method).Concat(CategoriesOf(type)).ToArray();
                if (categories.Length == 0 || categories.Except(Categories).Any())
                    untagged.Add($"{type.Name}.{method.Name}: [{string.Join(", ", categories)}]");
            }
        }
        Assert.Empty(untagged);
    }

    private static IEnumerable<string> CategoriesOf(MemberInfo member) =>
        member.GetCustomAttributesData()
            .Where(data => data.AttributeType == typeof(TraitAttribute) && (string?)data.ConstructorArguments[0].Value == "Category")
            .Select(data => (string)data.ConstructorArguments[1].Value!);
}
