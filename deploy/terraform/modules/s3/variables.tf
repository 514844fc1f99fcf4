variable "name_prefix" {
  description = "Prefix of the generated bucket name when bucket_name is null."
  type        = string
}

variable "bucket_name" {
  description = "Exact bucket name, or null for name_prefix plus a suffix AWS generates."
  type        = string
  default     = null
}

variable "history_prefix" {
  description = "Key prefix of search history objects (expire after history_expiration_days)."
  type        = string
  default     = "history/"
}

variable "clickstream_prefix" {
  description = "Key prefix of clickstream events (expire after clickstream_expiration_days)."
  type        = string
  default     = "clickstream/"
}

variable "history_expiration_days" {
  type    = number
  default = 90
}

variable "clickstream_expiration_days" {
  type    = number
  default = 365
}

variable "noncurrent_expiration_days" {
  type    = number
  default = 30
}

variable "kms_key_arn" {
  description = "KMS key for SSE-KMS; blank: SSE-S3 (AES256)."
  type        = string
  default     = ""
}

variable "force_destroy" {
  type    = bool
  default = false
}

variable "aws_only_features" {
  description = "The public access block, BucketOwnerEnforced ownership and the lifecycle's abort of stale multipart uploads. Keep true on AWS; false only for an S3-compatible store without them (the MinIO apply of npm run check:terraform)."
  type        = bool
  default     = true
}
