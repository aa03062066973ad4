import LuaESCore
import LuaESScripting
import LuaESStore

/// The LuaES release this build is.
public let version = "0.1.0"
