output "yaml" {
  description = "The values.yaml fragment (header comments + YAML)."
  value       = local.document
}

output "values" {
  description = "The same values as an object."
  value       = local.values
}
