variable "role_name" {
  type = string
}

variable "description" {
  type = string
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider."
  type        = string
}

variable "oidc_issuer_url" {
  description = "The cluster's OIDC issuer URL (https://oidc.eks.<region>.amazonaws.com/id/<id>)."
  type        = string
}

variable "service_accounts" {
  description = "\"namespace:name\" of each service account allowed to assume the role."
  type        = list(string)

  validation {
    condition     = length(var.service_accounts) > 0
    error_message = "service_accounts must name at least one \"namespace:name\"."
  }
}

variable "policy_json" {
  description = "The role's inline policy (an aws_iam_policy_document's json)."
  type        = string
}
