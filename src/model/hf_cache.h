// Hugging Face folders used where a GGUF file is expected (Model::load,
// `nomoat info`): converted once (hf_convert.h, weights kept as they are:
// F16/BF16, F32 as F16) into a cache file that is reused while the folder is
// unchanged.
//
// The cache lives in $XDG_CACHE_HOME/nomoat/hf, else ~/.cache/nomoat/hf.
// A folder's file is named <A>-<B>.gguf: A hashes the folder's canonical
// path, B the names, sizes and modification times of the files a
// conversion reads (and the converter's version). A changed folder gets a
// new B; before it is converted, the older <A>-*.gguf files and any
// <A>-*.gguf.partial left by a killed conversion are removed. Concurrent
// loads of one folder convert it once (a lock file per folder).
#pragma once

#include <functional>
#include <string>

namespace nomoat {

// The cache folder (not created).
std::string hf_cache_dir();

// The cache file `dir` converts to, whether or not it exists yet.
std::string hf_cache_path(const std::string& dir);

// The up-to-date converted GGUF of the folder `dir`, converting it first
// when needed; `note` receives one line before a conversion starts and
// progress lines while it runs (null: silent).
std::string hf_folder_gguf(const std::string& dir, const std::function<void(const std::string&)>& note = nullptr);

}  // namespace nomoat
