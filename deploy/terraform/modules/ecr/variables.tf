variable "name_prefix" {
  description = "Repositories are <name_prefix>/<repository>."
  type        = string
}

variable "repositories" {
  type = list(string)
}

variable "immutable_tags" {
  type    = bool
  default = true
}

variable "untagged_expiration_days" {
  type    = number
  default = 7
}

variable "keep_tagged" {
  type    = number
  default = 50
}

variable "force_delete" {
  type    = bool
  default = false
}
