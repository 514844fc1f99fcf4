variable "install_name" {
  type = string
}

variable "bucket_name" {
  type = string
}

variable "region" {
  type = string
}

variable "operator_role_arn" {
  description = "IRSA role of the operator's service account (serviceAccount.roleArn)."
  type        = string
}

variable "operator_service_account" {
  description = "serviceAccount.name: the name the role's trust names, so chart and IAM agree."
  type        = string
}

variable "image_repository" {
  description = "image.repository: the operator image's ECR repository URL."
  type        = string
}

variable "image_tag" {
  description = "image.tag; blank leaves the chart's appVersion."
  type        = string
  default     = ""
}

variable "payloads_prefix" {
  description = "s3.payloads.prefix: where the operator puts large Temporal payloads (the workers role's prefix)."
  type        = string
}

variable "karpenter" {
  description = "workerKarpenter: rendered when enabled."
  type = object({
    enabled      = bool
    cluster_name = string
    node_role    = string
  })
}

variable "ingress" {
  description = "ingress: rendered when host is set; certificate_arn adds the ALB TLS annotations."
  type = object({
    host            = string
    certificate_arn = string
  })
  default = { host = "", certificate_arn = "" }
}

variable "notes" {
  description = "Header comments for what the chart has no key for (gateway image, dashboard role)."
  type        = map(string)
  default     = {}
}
